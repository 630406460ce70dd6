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
{{- /* /health/ready answers within 1 s from state its own probes keep (every 1 s, 2 s timeout):
  a hung ClickHouse or NATS takes the pod out of its Service within about 3 s + 2 x 2 s */}}
readinessProbe:
  httpGet:
    path: /health/ready
    port: http
  periodSeconds: 2
  timeoutSeconds: 1
  failureThreshold: 2
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

{{/* Values of the NATS subchart that its defaults fill in (the parent chart does not see them). */}}
{{- define "orderflow.natsStatefulSet" -}}
{{- dig "statefulSet" "name" "" .Values.nats | default (include "orderflow.natsFullname" .) }}
{{- end }}
{{- define "orderflow.natsHeadless" -}}
{{- dig "headlessService" "name" "" .Values.nats | default (printf "%s-headless" (include "orderflow.natsFullname" .)) }}
{{- end }}
{{- define "orderflow.natsClientPort" -}}
{{- dig "config" "nats" "port" 4222 .Values.nats | int }}
{{- end }}

{{/* The number of bundled NATS servers: the NATS chart runs config.cluster.replicas (its default
3) with the cluster enabled, else 1. */}}
{{- define "orderflow.natsServerCount" -}}
{{- if dig "config" "cluster" "enabled" false .Values.nats }}
{{- dig "config" "cluster" "replicas" 3 .Values.nats | int }}
{{- else }}1{{- end }}
{{- end }}

{{/*
NATS_URL of every service: with the bundled NATS, every server by its stable pod DNS name through
the NATS chart's headless Service (which publishes not-ready addresses), comma-separated. The
servers run with cluster.no_advertise, so a client learns no other server from the one it reached:
the list is what lets it fail over. Else externalNats.url as given (one URL or several).
*/}}
{{- define "orderflow.natsUrl" -}}
{{- if .Values.nats.enabled }}
{{- $sts := include "orderflow.natsStatefulSet" . }}
{{- $domain := printf "%s.%s.svc" (include "orderflow.natsHeadless" .) (default .Release.Namespace .Values.nats.namespaceOverride) }}
{{- $port := include "orderflow.natsClientPort" . }}
{{- $urls := list }}
{{- range $i := until (int (include "orderflow.natsServerCount" .)) }}
{{- $urls = append $urls (printf "nats://%s-%d.%s:%s" $sts $i $domain $port) }}
{{- end }}
{{- join "," $urls }}
{{- else }}
{{- required "externalNats.url is required when nats.enabled is false" .Values.externalNats.url }}
{{- end }}
{{- end }}

{{/* The Secret with the NATS users' passwords (keys collector, aggregator, gateway); the NATS chart's
servers read the same name (values.yaml nats.container.env). */}}
{{- define "orderflow.natsAuthSecretName" -}}
{{- .Values.global.natsAuth.existingSecret | default (printf "%s-nats-auth" .Release.Name) }}
{{- end }}

{{/* Whether the components connect as NATS users: always with the bundled NATS, else externalNats.auth. */}}
{{- define "orderflow.natsAuthEnabled" -}}
{{- if or .Values.nats.enabled .Values.externalNats.auth }}true{{ end }}
{{- end }}

{{/* NATS_USER and NATS_PASSWORD of a component: (dict "root" $ "component" "collector"). */}}
{{- define "orderflow.natsAuthEnv" -}}
{{- if include "orderflow.natsAuthEnabled" .root }}
- name: NATS_USER
  value: {{ ternary .component (index .root.Values.externalNats.users .component | default .component) .root.Values.nats.enabled | quote }}
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "orderflow.natsAuthSecretName" .root }}
      key: {{ .component }}
{{- end }}
{{- end }}

{{/* The distinct ports of the NATS URLs (for egress rules), comma-separated. */}}
{{- define "orderflow.natsPorts" -}}
{{- if .Values.nats.enabled }}{{ include "orderflow.natsClientPort" . }}{{- else }}
{{- $ports := list }}
{{- range $u := splitList "," .Values.externalNats.url }}
{{- $u = trim $u }}
{{- if $u }}
{{- $host := (urlParse $u).host }}
{{- $ports = append $ports (ternary (last (splitList ":" $host)) "4222" (contains ":" $host)) }}
{{- end }}
{{- end }}
{{- join "," (uniq $ports) }}
{{- end }}
{{- end }}

{{/* Stream replicas above the bundled NATS servers' count cannot be placed: JetStream refuses the stream. */}}
{{- define "orderflow.checkStreamReplicas" -}}
{{- if .Values.nats.enabled }}
{{- $servers := int (include "orderflow.natsServerCount" .) }}
{{- if gt (int .Values.jetstream.trades.replicas) $servers }}
{{- fail (printf "jetstream.trades.replicas (%d) is more than the bundled NATS servers (%d): set nats.config.cluster.enabled and nats.config.cluster.replicas" (int .Values.jetstream.trades.replicas) $servers) }}
{{- end }}
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

{{/*
The ClickHouse user of one role (clickhouse.auth.users.<role>): migrator (the migration Job, or the
aggregator's start-up migrations), writer (the aggregator), reader (the gateway), analyst (people).
dict "root" $ "role" "writer"
*/}}
{{- define "orderflow.clickhouseUser" -}}
{{- $u := index .root.Values.clickhouse.auth.users .role }}
{{- required (printf "clickhouse.auth.users.%s.username is required" .role) $u.username }}
{{- end }}

{{/* The secretKeyRef of one role's password: dict "root" $ "role" "writer" */}}
{{- define "orderflow.clickhousePasswordRef" -}}
secretKeyRef:
  name: {{ include "orderflow.clickhouseSecretName" .root }}
  key: {{ (index .root.Values.clickhouse.auth.users .role).passwordKey }}
{{- end }}

{{/*
CLICKHOUSE_* env of a service as one role: dict "root" $ "role" "writer" (the aggregator),
"reader" (the gateway), "migrator" (the migration Job).
*/}}
{{- define "orderflow.clickhouseEnv" -}}
- name: CLICKHOUSE_URL
  value: {{ include "orderflow.clickhouseUrl" .root | quote }}
- name: CLICKHOUSE_USER
  value: {{ include "orderflow.clickhouseUser" . | quote }}
- name: CLICKHOUSE_PASSWORD
  valueFrom:
    {{- include "orderflow.clickhousePasswordRef" . | nindent 4 }}
- name: CLICKHOUSE_DATABASE
  value: {{ .root.Values.clickhouse.database | quote }}
{{- end }}

{{/* The aggregator's start-up migrations (AGG_MIGRATE=1) run as the migrator over their own connection. */}}
{{- define "orderflow.clickhouseMigrationsEnv" -}}
- name: CLICKHOUSE_MIGRATIONS_USER
  value: {{ include "orderflow.clickhouseUser" (dict "root" . "role" "migrator") | quote }}
- name: CLICKHOUSE_MIGRATIONS_PASSWORD
  valueFrom:
    {{- include "orderflow.clickhousePasswordRef" (dict "root" . "role" "migrator") | nindent 4 }}
{{- end }}

{{/* AGG_MIGRATE of the app pods: 0 when the migration Job runs the migrations. */}}
{{- define "orderflow.aggMigrate" -}}
{{- if .Values.clickhouse.migrations.enabled }}0{{ else }}1{{ end }}
{{- end }}
