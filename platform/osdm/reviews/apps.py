from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "osdm.reviews"
    label = "reviews"
    verbose_name = "Reviews"
