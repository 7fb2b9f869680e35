{{/* Names and labels. The objects are named after the release (fullnameOverride wins), so
a release called synapse-postgres gives the Services synapse-postgres and
synapse-postgres-headless that docs/architecture.md promises. */}}

{{- define "postgres.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "postgres.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The headless Service name; the base is cut so the suffix always fits in 63 characters. */}}
{{- define "postgres.headlessName" -}}
{{- printf "%s-headless" (include "postgres.fullname" . | trunc 54 | trimSuffix "-") -}}
{{- end -}}

{{- define "postgres.selectorLabels" -}}
app.kubernetes.io/name: {{ include "postgres.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "postgres.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "postgres.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | toString | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: database
app.kubernetes.io/part-of: matrixk8s-synapse
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "postgres.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | toString) -}}
{{- end -}}

{{/* The password Secret is the only required input: the chart never creates secrets. */}}
{{- define "postgres.passwordSecret" -}}
{{- required "auth.existingSecret is required: the name of an existing Secret holding the database password (the chart never creates it), e.g. --set auth.existingSecret=synapse-postgres-password" .Values.auth.existingSecret -}}
{{- end -}}

{{/* Pod Security "restricted": pod level ... */}}
{{- define "postgres.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
fsGroup: {{ .Values.podSecurityContext.fsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* ... and container level. */}}
{{- define "postgres.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* One probe's timing fields from probes.<name>. */}}
{{- define "postgres.probeTiming" -}}
initialDelaySeconds: {{ .initialDelaySeconds }}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- end -}}
