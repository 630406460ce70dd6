{{/* Names ------------------------------------------------------------------------------------ */}}

{{- define "orderflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "orderflow.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The name of a component's resources: <fullname>-<component>, at most 63 characters. */}}
{{- define "orderflow.componentName" -}}
{{- printf "%s-%s" (include "orderflow.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "orderflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "orderflow.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Labels ----------------------------------------------------------------------------------- */}}

{{- define "orderflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "orderflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "orderflow.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "orderflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: orderflow
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: dict "root" $ "component" "gateway" */}}
{{- define "orderflow.componentSelectorLabels" -}}
{{ include "orderflow.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "orderflow.componentLabels" -}}
{{ include "orderflow.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Images ----------------------------------------------------------------------------------- */}}

{{/* dict "root" $ "app" "collector" -> registry/prefix<app>:tag[@digest] */}}
{{- define "orderflow.image" -}}
{{- $img := .root.Values.image }}
{{- $repo := printf "%s%s" $img.repositoryPrefix .app }}
{{- if $img.registry }}{{ $repo = printf "%s/%s" (trimSuffix "/" $img.registry) $repo }}{{ end }}
{{- $tag := default .root.Chart.AppVersion $img.tag }}
{{- if $img.digest }}
{{- printf "%s:%s@%s" $repo $tag $img.digest }}
{{- else }}
{{- printf "%s:%s" $repo $tag }}
{{- end }}
{{- end }}

{{/* Pod-level pieces shared by every app pod. */}}
{{- define "orderflow.podCommon" -}}
serviceAccountName: {{ include "orderflow.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end }}

{{/* Scheduling of a component: its values (nodeSelector, tolerations, affinity). */}}
{{- define "orderflow.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* HTTP probes of an app container on port "http": /health/live and /health/ready. */}}
{{- define "orderflow.httpProbes" -}}
startupProbe:
  httpGet:
    path: /health/live
    port: http
  periodSeconds: 5
  failureThreshold: 60
livenessProbe:
  httpGet:
    path: /health/live
    port: http
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /health/ready
    port: http
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 3
{{- end }}

{{/* The writable /tmp every app container gets (the root filesystem is read-only). */}}
{{- define "orderflow.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}
{{- define "orderflow.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/* Extra env from a map (name: value), sorted by name. */}}
{{- define "orderflow.extraEnv" -}}
{{- range $k, $v := . }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end }}

{{/* NATS -------------------------------------------------------------------------------------- */}}

{{/* The NATS subchart's full name, as that chart computes it. */}}
{{- define "orderflow.natsFullname" -}}
{{- if .Values.nats.fullnameOverride }}
{{- .Values.nats.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default "nats" .Values.nats.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "orderflow.natsUrl" -}}
{{- if .Values.nats.enabled }}
{{- printf "nats://%s.%s.svc:4222" (include "orderflow.natsFullname" .) .Release.Namespace }}
{{- else }}
{{- required "externalNats.url is required when nats.enabled is false" .Values.externalNats.url }}
{{- end }}
{{- end }}

{{/* The port of the NATS URL (for egress rules). */}}
{{- define "orderflow.natsPort" -}}
{{- if .Values.nats.enabled }}4222{{- else }}
{{- $host := (urlParse .Values.externalNats.url).host }}
{{- if contains ":" $host }}{{ last (splitList ":" $host) }}{{ else }}4222{{ end }}
{{- end }}
{{- end }}

{{/* ClickHouse --------------------------------------------------------------------------------- */}}

{{- define "orderflow.clickhouseSecretName" -}}
{{- default (include "orderflow.componentName" (dict "root" . "component" "clickhouse")) .Values.clickhouse.auth.existingSecret }}
{{- end }}

{{- define "orderflow.clickhouseUrl" -}}
{{- if .Values.clickhouse.bundled.enabled }}
{{- printf "http://%s.%s.svc:8123" (include "orderflow.componentName" (dict "root" . "component" "clickhouse")) .Release.Namespace }}
{{- else }}
{{- required "clickhouse.url is required when clickhouse.bundled.enabled is false" .Values.clickhouse.url }}
{{- end }}
{{- end }}

{{/* The port of an external ClickHouse URL (for egress rules). */}}
{{- define "orderflow.clickhousePort" -}}
{{- if .Values.clickhouse.bundled.enabled }}8123{{- else }}
{{- $u := urlParse .Values.clickhouse.url }}
{{- if contains ":" $u.host }}{{ last (splitList ":" $u.host) }}{{ else if eq $u.scheme "https" }}443{{ else }}80{{ end }}
{{- end }}
{{- end }}

{{/* CLICKHOUSE_* env of the aggregator, the gateway and the migration Job. */}}
{{- define "orderflow.clickhouseEnv" -}}
- name: CLICKHOUSE_URL
  value: {{ include "orderflow.clickhouseUrl" . | quote }}
- name: CLICKHOUSE_USER
  value: {{ .Values.clickhouse.auth.username | quote }}
- name: CLICKHOUSE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "orderflow.clickhouseSecretName" . }}
      key: {{ .Values.clickhouse.auth.passwordKey }}
- name: CLICKHOUSE_DATABASE
  value: {{ .Values.clickhouse.database | quote }}
{{- end }}

{{/* AGG_MIGRATE of the app pods: 0 when the migration Job runs the migrations. */}}
{{- define "orderflow.aggMigrate" -}}
{{- if .Values.clickhouse.migrations.enabled }}0{{ else }}1{{ end }}
{{- end }}
