{{/* matrixk8s-lib: pods and containers (calling convention: charts/matrixk8s-lib/README.md).
Every pod fits the Pod Security "restricted" profile (tests/charts checks it) with a read-only
root filesystem, explicit identities and no API token. */}}

{{/* The container image, "<image.repository>:<image.tag>" (a number-like tag stays a string). */}}
{{- define "matrixk8s.image" -}}
{{- printf "%s:%s" .root.Values.image.repository (.root.Values.image.tag | toString) -}}
{{- end -}}

{{/* The pod spec fields every chart's pod shares: no API token, no service links, the grace
period (when the chart has the value), the pod security context, the pull secrets, and where
the pod may run (nodeSelector, tolerations, affinity). "fsGroupChangePolicy" (optional):
OnRootMismatch for a large volume that should not be re-chowned on every start. */}}
{{- define "matrixk8s.podCommon" -}}
{{- $values := .root.Values -}}
automountServiceAccountToken: false
enableServiceLinks: false
{{- if hasKey $values "terminationGracePeriodSeconds" }}
terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
{{- end }}
securityContext:
  {{- include "matrixk8s.podSecurityContext" . | nindent 2 }}
{{- with $values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Pod Security "restricted" at pod level, identities from podSecurityContext.{runAsUser,
runAsGroup,fsGroup}; "fsGroupChangePolicy" as in matrixk8s.podCommon. */}}
{{- define "matrixk8s.podSecurityContext" -}}
{{- $ids := .root.Values.podSecurityContext -}}
runAsNonRoot: true
runAsUser: {{ $ids.runAsUser }}
runAsGroup: {{ $ids.runAsGroup }}
fsGroup: {{ $ids.fsGroup }}
{{- with .fsGroupChangePolicy }}
fsGroupChangePolicy: {{ . }}
{{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The container fields every chart's containers share: the image and its pull policy, the
container security context and "resources" (a requests/limits value; none when empty). */}}
{{- define "matrixk8s.containerCommon" -}}
image: {{ include "matrixk8s.image" . | quote }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
securityContext:
  {{- include "matrixk8s.containerSecurityContext" . | nindent 2 }}
{{- with .resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Pod Security "restricted" at container level. */}}
{{- define "matrixk8s.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* A probe: the handler, "httpGet" (dict "path" "port") or "exec" (the command, a list),
then the timings of "timing" (a probes.<name> value: initialDelaySeconds, periodSeconds,
timeoutSeconds, failureThreshold). */}}
{{- define "matrixk8s.probe" -}}
{{- if .exec -}}
exec:
  command: {{ toJson .exec }}
{{- else -}}
httpGet:
  path: {{ .httpGet.path }}
  port: {{ .httpGet.port }}
{{- end }}
initialDelaySeconds: {{ .timing.initialDelaySeconds }}
periodSeconds: {{ .timing.periodSeconds }}
timeoutSeconds: {{ .timing.timeoutSeconds }}
failureThreshold: {{ .timing.failureThreshold }}
{{- end -}}
