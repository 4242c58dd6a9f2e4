{{/* Names and labels. */}}
{{- define "s3d.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "s3d.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "s3d.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "s3d.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "s3d.selectorLabels" -}}
app.kubernetes.io/name: {{ include "s3d.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "s3d.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "s3d.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "s3d.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "s3d.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The mode, checked once: every template goes through it. */}}
{{- define "s3d.mode" -}}
{{- $mode := .Values.mode -}}
{{- if not (has $mode (list "daemonset" "deployment" "sidecar")) -}}
{{- fail (printf "mode: expected daemonset, deployment or sidecar, got %q" $mode) -}}
{{- end -}}
{{- $mode -}}
{{- end -}}

{{- define "s3d.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* hostPath for a DaemonSet, emptyDir otherwise, unless data.type says. */}}
{{- define "s3d.dataType" -}}
{{- $type := .Values.data.type | default (ternary "hostPath" "emptyDir" (eq (include "s3d.mode" .) "daemonset")) -}}
{{- if not (has $type (list "hostPath" "emptyDir")) -}}
{{- fail (printf "data.type: expected hostPath or emptyDir, got %q" $type) -}}
{{- end -}}
{{- if and (eq $type "hostPath") (eq (include "s3d.mode" .) "sidecar") -}}
{{- fail "data.type: a sidecar keeps its data in an emptyDir, not on the node (hostPath)" -}}
{{- end -}}
{{- $type -}}
{{- end -}}

{{/* hostNetwork applies to the pods the chart runs, not to a sidecar in someone else's pod. */}}
{{- define "s3d.hostNetwork" -}}
{{- if and .Values.hostNetwork (ne (include "s3d.mode" .) "sidecar") -}}true{{- end -}}
{{- end -}}

{{- define "s3d.bindAddress" -}}
{{- if .Values.s3d.host -}}
{{- .Values.s3d.host -}}
{{- else if or (eq (include "s3d.mode" .) "sidecar") (include "s3d.hostNetwork" .) -}}
127.0.0.1
{{- else -}}
0.0.0.0
{{- end -}}
{{- end -}}

{{/*
Seconds the kubelet waits between starting the stop and SIGKILL: the preStop flush, then after
SIGTERM the request drain and the journal's last flush (s3d does them one after the other),
plus a margin for closing the rest.
*/}}
{{- define "s3d.terminationGracePeriodSeconds" -}}
{{- $preStop := ternary (int .Values.preStopFlush.timeout) 0 .Values.preStopFlush.enabled -}}
{{- $drain := ceil .Values.s3d.server.shutdownGrace | int -}}
{{- $flush := ceil .Values.s3d.journal.flushOnStop | int -}}
{{- add $preStop $drain $flush (int .Values.graceMargin) -}}
{{- end -}}

{{/*
A byte size as an integer: a plain number, or a number with a binary unit as Kubernetes
(Ki, Mi, Gi, Ti) or s3d (KiB, MiB, GiB, TiB) write it. Anything else fails: the chart compares
sizes and must not guess.
*/}}
{{- define "s3d.bytes" -}}
{{- $value := .value -}}
{{- $text := ternary (int64 $value | toString) (toString $value) (kindIs "float64" $value) -}}
{{- if not (regexMatch "^[0-9]+((Ki|Mi|Gi|Ti)B?)?$" $text) -}}
{{- fail (printf "%s: expected bytes as an integer or with a binary unit (Ki, Mi, Gi, Ti, or KiB…), got %q" .name $text) -}}
{{- end -}}
{{- $number := regexReplaceAll "^([0-9]+).*$" $text "${1}" | atoi -}}
{{- $unit := regexReplaceAll "^[0-9]+" $text "" | trimSuffix "B" -}}
{{- $scale := dict "" 1 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 -}}
{{- mul $number (get $scale $unit) -}}
{{- end -}}

{{/*
S3D_CACHE_MAX_SIZE, or nothing for s3d's default. With an emptyDir: derived from its sizeLimit,
or checked against it.
*/}}
{{- define "s3d.cacheMaxSize" -}}
{{- $given := .Values.s3d.cache.maxSize -}}
{{- if eq (include "s3d.dataType" .) "emptyDir" -}}
{{- $limit := include "s3d.bytes" (dict "name" "data.emptyDir.sizeLimit" "value" (required "data.emptyDir.sizeLimit is required with an emptyDir" .Values.data.emptyDir.sizeLimit)) | atoi -}}
{{- if $given -}}
{{- $size := include "s3d.bytes" (dict "name" "s3d.cache.maxSize" "value" $given) | atoi -}}
{{- if gt $size $limit -}}
{{- fail (printf "s3d.cache.maxSize (%v) is larger than data.emptyDir.sizeLimit (%v): the kubelet would evict the pod before s3d evicts its cache" $given .Values.data.emptyDir.sizeLimit) -}}
{{- end -}}
{{- $size -}}
{{- else -}}
{{- div (mul $limit (int .Values.data.emptyDir.cachePercent)) 100 -}}
{{- end -}}
{{- else if $given -}}
{{- ternary (int64 $given | toString) (toString $given) (kindIs "float64" $given) -}}
{{- end -}}
{{- end -}}

{{/* Resources, with the ephemeral-storage request an emptyDir data volume needs. */}}
{{- define "s3d.resources" -}}
{{- $resources := deepCopy (.Values.resources | default dict) -}}
{{- if eq (include "s3d.dataType" .) "emptyDir" -}}
{{- $requests := get $resources "requests" | default dict -}}
{{- if not (hasKey $requests "ephemeral-storage") -}}
{{- $_ := set $requests "ephemeral-storage" (toString .Values.data.emptyDir.sizeLimit) -}}
{{- end -}}
{{- $_ := set $resources "requests" $requests -}}
{{- end -}}
{{- toYaml $resources -}}
{{- end -}}
