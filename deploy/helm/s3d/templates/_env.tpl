{{/*
The container's environment: every s3d setting as its S3D_* variable, secrets only as
references to existing Secrets, and the OTEL_* variables.
*/}}
{{- define "s3d.secretRef" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end -}}

{{/* extraEnv may not carry a secret: those come from a Secret, by name. */}}
{{- define "s3d.plainEnv" -}}
{{- range $name, $value := .env }}
{{- if regexMatch "(?i)(SECRET|TOKEN|PASSWORD|ACCESS_KEY|HEADERS)" $name }}
{{- fail (printf "%s.%s: would put a secret in the manifest; give it through a Secret (localAccessKeys, remoteCredentials, metrics.bearerToken, otel.headersSecret)" $.from $name) }}
{{- end }}
- name: {{ $name }}
  value: {{ toString $value | quote }}
{{- end }}
{{- end -}}

{{- define "s3d.env" -}}
{{- $s3d := .Values.s3d -}}
- name: S3D_DATA_DIR
  value: /var/lib/s3d
- name: S3D_SERVER_HOST
  value: {{ include "s3d.bindAddress" . | quote }}
- name: S3D_SERVER_PORT
  value: {{ $s3d.port | quote }}
- name: S3D_SERVER_REGION
  value: {{ $s3d.serverRegion | quote }}
- name: S3D_SERVER_SHUTDOWN_GRACE
  value: {{ $s3d.server.shutdownGrace | quote }}
- name: S3D_REMOTE_ENDPOINT_URL
  value: {{ $s3d.remote.endpoint | quote }}
- name: S3D_REMOTE_REGION
  value: {{ $s3d.remote.region | quote }}
- name: S3D_REMOTE_ADDRESSING_STYLE
  value: {{ $s3d.remote.addressingStyle | quote }}
{{- with $s3d.remote.buckets }}
- name: S3D_REMOTE_BUCKETS
  value: {{ join "," . | quote }}
{{- end }}
- name: S3D_REMOTE_ALLOW_OFFLINE_START
  value: {{ $s3d.remote.allowOfflineStart | quote }}
- name: S3D_JOURNAL_MODE
  value: {{ $s3d.journal.mode | quote }}
- name: S3D_JOURNAL_FLUSH_ON_STOP
  value: {{ $s3d.journal.flushOnStop | quote }}
{{- with include "s3d.cacheMaxSize" . }}
- name: S3D_CACHE_MAX_SIZE
  value: {{ . | quote }}
{{- end }}
{{- with .Values.fuse }}
{{- if .enabled }}
{{- if not .source }}
{{- fail "fuse.enabled needs fuse.source: the BUCKET or BUCKET/PREFIX to mount" }}
{{- end }}
- name: S3D_FUSE_MOUNTS
  value: {{ printf "%s:%s/%s" .source .hostMountPath .name | quote }}
- name: S3D_FUSE_ALLOW_OTHER
  value: "true"
- name: S3D_FUSE_READ_ONLY
  value: {{ .readOnly | quote }}
{{- end }}
{{- end }}
- name: S3D_LOG_FORMAT
  value: {{ $s3d.log.format | quote }}
- name: S3D_LOG_LEVEL
  value: {{ $s3d.log.level | quote }}
{{- include "s3d.plainEnv" (dict "from" "s3d.extraEnv" "env" $s3d.extraEnv) }}
{{- with .Values.localAccessKeys.existingSecret }}
{{ include "s3d.secretRef" (dict "env" "S3D_SERVER_ACCESS_KEYS" "secret" . "key" $.Values.localAccessKeys.key) }}
{{- end }}
{{- with .Values.remoteCredentials }}
{{- if .existingSecret }}
{{ include "s3d.secretRef" (dict "env" "AWS_ACCESS_KEY_ID" "secret" .existingSecret "key" .accessKeyIdKey) }}
{{ include "s3d.secretRef" (dict "env" "AWS_SECRET_ACCESS_KEY" "secret" .existingSecret "key" .secretAccessKeyKey) }}
{{- if .sessionTokenKey }}
{{ include "s3d.secretRef" (dict "env" "AWS_SESSION_TOKEN" "secret" .existingSecret "key" .sessionTokenKey) }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.metrics.bearerToken }}
{{- if .existingSecret }}
- name: S3D_METRICS_BEARER_TOKEN_FILE
  value: {{ printf "/etc/s3d/metrics/%s" .key | quote }}
{{- end }}
{{- end }}
{{- if .Values.otel.enabled }}
{{ include "s3d.otelEnv" . }}
{{- end }}
{{- end -}}

{{/* OTEL_*: the resource names the pod, node and namespace through the downward API. */}}
{{- define "s3d.otelEnv" -}}
{{- $otel := .Values.otel -}}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_NAMESPACE_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: K8S_NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: OTEL_SERVICE_NAME
  value: {{ $otel.serviceName | quote }}
- name: OTEL_TRACES_EXPORTER
  value: {{ $otel.tracesExporter | quote }}
{{- with $otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $otel.protocol | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $otel.sampler | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $otel.samplerArg | quote }}
{{- $attributes := list "k8s.pod.name=$(K8S_POD_NAME)" "k8s.namespace.name=$(K8S_NAMESPACE_NAME)" "k8s.node.name=$(K8S_NODE_NAME)" }}
{{- with $otel.resourceAttributes }}{{ $attributes = append $attributes . }}{{ end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attributes | quote }}
{{- if $otel.headersSecret.name }}
{{ include "s3d.secretRef" (dict "env" "OTEL_EXPORTER_OTLP_HEADERS" "secret" $otel.headersSecret.name "key" $otel.headersSecret.key) }}
{{- end }}
{{- include "s3d.plainEnv" (dict "from" "otel.extraEnv" "env" $otel.extraEnv) }}
{{- end -}}
