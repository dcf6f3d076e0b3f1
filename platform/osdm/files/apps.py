from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "osdm.files"
    label = "files"
    verbose_name = "Files"
