{{/* Names and labels. Objects are named after the release (fullnameOverride wins). */}}

{{- define "well-known.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "well-known.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "well-known.selectorLabels" -}}
app.kubernetes.io/name: {{ include "well-known.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "well-known.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "well-known.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | toString | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: well-known
app.kubernetes.io/part-of: matrixk8s-synapse
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "well-known.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | toString) -}}
{{- end -}}

{{/* Where the ConfigMap (nginx.conf and the JSON files) is mounted. */}}
{{- define "well-known.configDir" -}}/etc/nginx/matrix{{- end -}}

{{/* Pod Security "restricted": pod level ... */}}
{{- define "well-known.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
fsGroup: {{ .Values.podSecurityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* ... and container level. */}}
{{- define "well-known.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "well-known.probeTiming" -}}
initialDelaySeconds: {{ .initialDelaySeconds }}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- end -}}

{{- define "well-known.ingressChecks" -}}
{{- if and .Values.ingress.className (hasKey .Values.ingress.annotations "kubernetes.io/ingress.class") -}}
{{- fail "ingress.className and the annotation kubernetes.io/ingress.class are both set; use only one" -}}
{{- end -}}
{{- end -}}

{{/* One JSON location of nginx.conf. Args: dict "name" "server|client|support" "doc" <value>
"dir" <config dir>. An empty document answers 404. CORS headers are required on /client
(browsers fetch it) and harmless on the others; "always" adds them to error answers too. */}}
{{- define "well-known.location" -}}
location = /.well-known/matrix/{{ .name }} {
{{- if .doc }}
    default_type application/json;
    add_header Access-Control-Allow-Origin "*" always;
    add_header Access-Control-Allow-Methods "GET, HEAD, OPTIONS" always;
    add_header Access-Control-Allow-Headers "X-Requested-With, Content-Type, Authorization" always;
    if ($request_method = OPTIONS) {
        return 204;
    }
    alias {{ .dir }}/{{ .name }}.json;
{{- else }}
    # {{ .name }} is empty in the values: not published.
    add_header Access-Control-Allow-Origin "*" always;
    return 404;
{{- end }}
}
{{- end -}}
