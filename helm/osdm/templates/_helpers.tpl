{{/*
Names, labels and the pieces every OSDM pod shares: image, settings (ConfigMap + Secret as
environment), security contexts, the /tmp and media volumes.
*/}}

{{- define "osdm.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "osdm.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "osdm.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "osdm.labels" -}}
helm.sh/chart: {{ include "osdm.chart" . }}
app.kubernetes.io/name: {{ include "osdm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: (dict "ctx" $ "component" "web") */}}
{{- define "osdm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "osdm.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "osdm.componentLabels" -}}
{{ include "osdm.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "osdm.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "osdm.secretName" -}}
{{- default (include "osdm.fullname" .) .Values.existingSecret }}
{{- end }}

{{/*
Non-secret settings: every variable platform/osdm/settings.py reads that is not a secret
(tests/test_deploy.py checks the two lists against the settings). "" means the application default.
*/}}
{{- define "osdm.configData" -}}
{{- $v := .Values -}}
{{- if not (has $v.storage.backend (list "s3" "local")) }}
{{- fail "storage.backend must be s3 or local" }}
{{- end -}}
OSDM_DEBUG: "0"
OSDM_BASE_DOMAIN: {{ required "baseDomain is required: marketplaces are served at <slug>.<baseDomain>" $v.baseDomain | quote }}
OSDM_EXTRA_HOSTS: {{ join "," $v.extraHosts | quote }}
OSDM_ALLOW_ANY_HOST: {{ ternary "1" "0" $v.allowAnyHost | quote }}
OSDM_BEHIND_TLS_PROXY: {{ ternary "1" "0" $v.behindTlsProxy | quote }}
OSDM_LOG_LEVEL: {{ $v.logLevel | toString | quote }}
OSDM_SPARE_POOL_SIZE: {{ $v.tenants.sparePoolSize | toString | quote }}
OSDM_TENANT_CACHE_SECONDS: {{ $v.tenants.hostCacheSeconds | toString | quote }}
OSDM_STORAGE: {{ $v.storage.backend | quote }}
{{- if eq $v.storage.backend "s3" }}
OSDM_S3_BUCKET: {{ required "storage.s3.bucket is required with storage.backend=s3" $v.storage.s3.bucket | quote }}
OSDM_S3_ENDPOINT_URL: {{ $v.storage.s3.endpointUrl | quote }}
OSDM_S3_REGION: {{ $v.storage.s3.region | quote }}
{{- else }}
OSDM_MEDIA_ROOT: "/data/media"
{{- end }}
OSDM_DOWNLOAD_LINK_SECONDS: {{ $v.files.downloadLinkSeconds | toString | quote }}
OSDM_WEBHOOKS_TIMEOUT: {{ $v.webhooks.timeout | toString | quote }}
OSDM_WEBHOOKS_RETRY_SCHEDULE: {{ $v.webhooks.retrySchedule | toString | quote }}
OSDM_WEBHOOKS_LEASE_SECONDS: {{ $v.webhooks.leaseSeconds | toString | quote }}
OSDM_WEBHOOKS_SWEEP_GRACE: {{ $v.webhooks.sweepGrace | toString | quote }}
OSDM_WEBHOOKS_ALLOW_HTTP: {{ $v.webhooks.allowHttp | toString | quote }}
OSDM_WEBHOOKS_ALLOW_PRIVATE: {{ $v.webhooks.allowPrivate | toString | quote }}
OSDM_EVENT_RETENTION_DAYS: {{ $v.webhooks.eventRetentionDays | toString | quote }}
OSDM_WEBHOOK_LOG_RETENTION_DAYS: {{ $v.webhooks.logRetentionDays | toString | quote }}
OSDM_FROM_EMAIL: {{ $v.email.from | toString | quote }}
EMAIL_BACKEND: {{ $v.email.backend | toString | quote }}
EMAIL_HOST: {{ $v.email.host | toString | quote }}
EMAIL_PORT: {{ $v.email.port | toString | quote }}
EMAIL_HOST_USER: {{ $v.email.user | toString | quote }}
EMAIL_USE_TLS: {{ $v.email.useTls | toString | quote }}
OSDM_ACCESS_TOKEN_MINUTES: {{ $v.auth.accessTokenMinutes | toString | quote }}
OSDM_REFRESH_TOKEN_DAYS: {{ $v.auth.refreshTokenDays | toString | quote }}
OSDM_MAX_BODY_BYTES: {{ $v.limits.maxBodyBytes | toString | quote }}
OSDM_MAX_UPLOAD_BYTES: {{ $v.limits.maxUploadBytes | toString | quote }}
OSDM_MAX_IMAGE_BYTES: {{ $v.limits.maxImageBytes | toString | quote }}
OSDM_THROTTLE_ANON: {{ $v.throttle.anon | toString | quote }}
OSDM_THROTTLE_USER: {{ $v.throttle.user | toString | quote }}
OSDM_THROTTLE_KEY: {{ $v.throttle.key | toString | quote }}
OSDM_THROTTLE_LOGIN: {{ $v.throttle.login | toString | quote }}
OSDM_THROTTLE_REGISTER: {{ $v.throttle.register | toString | quote }}
{{- end }}

{{/* Secret settings, from `secrets` when no existingSecret is named. */}}
{{- define "osdm.secretData" -}}
{{- $s := .Values.secrets -}}
{{- $hint := "(or name an existingSecret)" -}}
SECRET_KEY: {{ required (printf "secrets.secretKey is required %s" $hint) $s.secretKey | b64enc | quote }}
OSDM_PLATFORM_KEY: {{ required (printf "secrets.platformKey is required %s" $hint) $s.platformKey | b64enc | quote }}
OSDM_FIELD_ENCRYPTION_KEYS: {{ required (printf "secrets.fieldEncryptionKeys is required %s" $hint) $s.fieldEncryptionKeys | b64enc | quote }}
DATABASE_URL: {{ required (printf "secrets.databaseUrl is required %s" $hint) $s.databaseUrl | b64enc | quote }}
REDIS_URL: {{ required (printf "secrets.redisUrl is required %s" $hint) $s.redisUrl | b64enc | quote }}
{{- with $s.emailHostPassword }}
EMAIL_HOST_PASSWORD: {{ . | b64enc | quote }}
{{- end }}
{{- with $s.s3AccessKey }}
OSDM_S3_ACCESS_KEY: {{ . | b64enc | quote }}
{{- end }}
{{- with $s.s3SecretKey }}
OSDM_S3_SECRET_KEY: {{ . | b64enc | quote }}
{{- end }}
{{- end }}

{{/* Restart pods when settings change (a ConfigMap or Secret change alone restarts nothing). */}}
{{- define "osdm.checksums" -}}
checksum/config: {{ include "osdm.configData" . | sha256sum }}
{{- if not .Values.existingSecret }}
checksum/secret: {{ include "osdm.secretData" . | sha256sum }}
{{- end }}
{{- end }}

{{/* Settings as environment: (dict "ctx" $ "config" <ConfigMap name> "secret" <Secret name>) */}}
{{- define "osdm.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ .config }}
  - secretRef:
      name: {{ .secret }}
{{- end }}

{{- define "osdm.podSecurity" -}}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Scheduling of a component: its own nodeSelector/tolerations/affinity, else the chart's. */}}
{{- define "osdm.scheduling" -}}
{{- with (default .ctx.Values.nodeSelector .values.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default .ctx.Values.tolerations .values.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default .ctx.Values.affinity .values.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Volumes: /tmp always; the media claim with local storage when asked (dict "ctx" $ "media" bool). */}}
{{- define "osdm.volumes" -}}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .ctx.Values.tmp.sizeLimit }}
{{- if and .media (eq .ctx.Values.storage.backend "local") }}
  - name: media
    persistentVolumeClaim:
      claimName: {{ required "storage.local.existingClaim (a ReadWriteMany claim) is required with storage.backend=local" .ctx.Values.storage.local.existingClaim }}
{{- end }}
{{- end }}

{{- define "osdm.volumeMounts" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- if and .media (eq .ctx.Values.storage.backend "local") }}
  - name: media
    mountPath: /data/media
{{- end }}
{{- end }}

{{/* A CPU-based HorizontalPodAutoscaler of one Deployment: (dict "ctx" $ "component" .. "autoscaling" ..) */}}
{{- define "osdm.hpa" -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "osdm.fullname" .ctx }}-{{ .component }}
  labels:
    {{- include "osdm.componentLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "osdm.fullname" .ctx }}-{{ .component }}
  minReplicas: {{ .autoscaling.minReplicas }}
  maxReplicas: {{ .autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .autoscaling.targetCPUUtilizationPercentage }}
{{- end }}

{{- define "osdm.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "osdm.fullname" .ctx }}-{{ .component }}
  labels:
    {{- include "osdm.componentLabels" . | nindent 4 }}
spec:
  minAvailable: {{ .pdb.minAvailable }}
  selector:
    matchLabels:
      {{- include "osdm.selectorLabels" . | nindent 6 }}
{{- end }}
