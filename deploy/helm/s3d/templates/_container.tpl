{{/*
The s3d container, the same in every mode: the DaemonSet, the Deployment and the sidecar
snippet all include it.
*/}}

{{/*
How the kubelet asks a health endpoint. It connects to the pod's IP, so an s3d bound to the
pod's loopback is asked from inside the container (python is in the image); under hostNetwork
the pod's loopback is the node's, which the kubelet reaches.
*/}}
{{- define "s3d.probeHandler" -}}
{{- $root := .root -}}
{{- $bind := include "s3d.bindAddress" $root -}}
{{- $loopback := or (hasPrefix "127." $bind) (eq $bind "::1") (eq $bind "localhost") -}}
{{- if and $loopback (not (include "s3d.hostNetwork" $root)) -}}
exec:
  command:
    - python
    - -c
    - "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)"
    - {{ printf "http://127.0.0.1:%v%s" $root.Values.s3d.port .probe.path | quote }}
{{- else -}}
httpGet:
  path: {{ .probe.path }}
  port: {{ $root.Values.s3d.port }}
  {{- if $loopback }}
  host: 127.0.0.1
  {{- end }}
{{- end }}
periodSeconds: {{ .probe.periodSeconds }}
failureThreshold: {{ .probe.failureThreshold }}
timeoutSeconds: {{ .probe.timeoutSeconds }}
{{- end -}}

{{- define "s3d.container" -}}
name: s3d
image: {{ include "s3d.image" . | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
args: ["serve"]
env:
{{- include "s3d.env" . | nindent 2 }}
ports:
  - name: s3
    containerPort: {{ .Values.s3d.port }}
    protocol: TCP
    {{- if and (eq (include "s3d.mode" .) "daemonset") .Values.hostPort.enabled (not (include "s3d.hostNetwork" .)) }}
    hostPort: {{ .Values.hostPort.port }}
    {{- end }}
startupProbe:
  {{- include "s3d.probeHandler" (dict "root" . "probe" .Values.probes.startup) | nindent 2 }}
livenessProbe:
  {{- include "s3d.probeHandler" (dict "root" . "probe" .Values.probes.liveness) | nindent 2 }}
readinessProbe:
  {{- include "s3d.probeHandler" (dict "root" . "probe" .Values.probes.readiness) | nindent 2 }}
{{- if .Values.preStopFlush.enabled }}
lifecycle:
  # Upload what is pending while s3d still serves; SIGTERM follows (then the drain and the
  # journal's own last flush). A flush that times out leaves the rest for the next start.
  preStop:
    exec:
      command: ["s3d", "flush", "--timeout", {{ .Values.preStopFlush.timeout | quote }}]
{{- end }}
resources:
  {{- include "s3d.resources" . | nindent 2 }}
securityContext:
  {{- if .Values.fuse.enabled }}
  # FUSE: mounting needs CAP_SYS_ADMIN, and a mount seen by other pods needs privileged.
  privileged: true
  runAsNonRoot: false
  runAsUser: 0
  readOnlyRootFilesystem: true
  {{- else }}
  {{- toYaml .Values.securityContext | nindent 2 }}
  {{- end }}
volumeMounts:
  - name: data
    mountPath: /var/lib/s3d
  - name: tmp
    mountPath: /tmp
  {{- if .Values.metrics.bearerToken.existingSecret }}
  - name: metrics-token
    mountPath: /etc/s3d/metrics
    readOnly: true
  {{- end }}
  {{- if .Values.fuse.enabled }}
  - name: fuse-device
    mountPath: /dev/fuse
  - name: fuse-mounts
    mountPath: {{ .Values.fuse.hostMountPath }}
    mountPropagation: Bidirectional
  {{- end }}
{{- end -}}

{{- define "s3d.volumes" -}}
{{- $type := include "s3d.dataType" . -}}
- name: data
  {{- if eq $type "hostPath" }}
  # On the node's disk: pending writes survive a pod restart and are uploaded after it.
  hostPath:
    path: {{ .Values.data.hostPath.path }}
    type: DirectoryOrCreate
  {{- else }}
  # Lost with the pod: what the preStop and stop flushes could not upload is lost too.
  emptyDir:
    sizeLimit: {{ .Values.data.emptyDir.sizeLimit }}
    {{- with .Values.data.emptyDir.medium }}
    medium: {{ . }}
    {{- end }}
  {{- end }}
- name: tmp
  emptyDir: {}
{{- with .Values.metrics.bearerToken }}
{{- if .existingSecret }}
# The token /_s3d/metrics asks for, readable by s3d's group (fsGroup) only.
- name: metrics-token
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ .key }}
        path: {{ .key }}
{{- end }}
{{- end }}
{{- if .Values.fuse.enabled }}
- name: fuse-device
  hostPath:
    path: /dev/fuse
    type: CharDevice
- name: fuse-mounts
  hostPath:
    path: {{ .Values.fuse.hostMountPath }}
    type: DirectoryOrCreate
{{- end }}
{{- end -}}

{{/* A hostPath directory is created owned by root; fsGroup does not apply to hostPath. The
FUSE mount point must exist before s3d mounts on it. */}}
{{- define "s3d.initContainers" -}}
{{- if .Values.fuse.enabled }}
- name: fuse-mountpoint
  image: {{ include "s3d.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: ["mkdir", "-p", {{ printf "%s/%s" .Values.fuse.hostMountPath .Values.fuse.name | quote }}]
  securityContext:
    runAsNonRoot: false
    runAsUser: 0
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
  volumeMounts:
    - name: fuse-mounts
      mountPath: {{ .Values.fuse.hostMountPath }}
{{- end }}
{{- if and (eq (include "s3d.dataType" .) "hostPath") .Values.data.hostPath.chownInit }}
- name: data-owner
  image: {{ include "s3d.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: ["chown", "{{ .Values.podSecurityContext.runAsUser }}:{{ .Values.podSecurityContext.runAsGroup }}", "/var/lib/s3d"]
  securityContext:
    runAsNonRoot: false
    runAsUser: 0
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities:
      drop: ["ALL"]
      add: ["CHOWN"]
  volumeMounts:
    - name: data
      mountPath: /var/lib/s3d
{{- end }}
{{- end -}}

{{/* The pod spec shared by the DaemonSet and the Deployment. */}}
{{- define "s3d.podSpec" -}}
serviceAccountName: {{ include "s3d.serviceAccountName" . }}
# A Service named s3d would otherwise inject S3D_PORT, S3D_SERVICE_HOST… into the pod.
enableServiceLinks: false
terminationGracePeriodSeconds: {{ include "s3d.terminationGracePeriodSeconds" . }}
{{- if include "s3d.hostNetwork" . }}
hostNetwork: true
dnsPolicy: ClusterFirstWithHostNet
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with include "s3d.initContainers" . | trim }}
initContainers:
  {{- . | nindent 2 }}
{{- end }}
containers:
  - {{- include "s3d.container" . | nindent 4 }}
volumes:
  {{- include "s3d.volumes" . | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $tolerations := .Values.tolerations | default list }}
{{- if and (eq (include "s3d.mode" .) "daemonset") .Values.daemonset.tolerateAllTaints }}
{{- $tolerations = append $tolerations (dict "operator" "Exists") }}
{{- end }}
{{- with $tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "s3d.podMetadata" -}}
labels:
  {{- include "s3d.selectorLabels" . | nindent 2 }}
  {{- with .Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .Values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
