{{/* matrixk8s-lib: labels (calling convention: charts/matrixk8s-lib/README.md). */}}

{{/* The labels a workload selects its pods by: never change them (a selector is immutable). */}}
{{- define "matrixk8s.selectorLabels" -}}
app.kubernetes.io/name: {{ include "matrixk8s.name" . }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* Every object's labels. "component": what the chart is in the deployment (database,
homeserver, well-known). part-of is the label every object of the collection carries, the
roles' objects too: playbooks/uninstall.yml -e purge=true selects on it. */}}
{{- define "matrixk8s.labels" -}}
{{- $root := .root -}}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "matrixk8s.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Values.image.tag | toString | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: {{ required "matrixk8s.labels needs a component" .component }}
app.kubernetes.io/part-of: matrixk8s-synapse
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
{{- end -}}

{{/* An object's metadata: name (fullname unless "name" is given), labels (needs "component"),
and "annotations" (a map) when not empty. */}}
{{- define "matrixk8s.metadata" -}}
name: {{ .name | default (include "matrixk8s.fullname" .) }}
labels:
  {{- include "matrixk8s.labels" . | nindent 2 }}
{{- with .annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* A workload's (Deployment, StatefulSet) metadata: as matrixk8s.metadata, annotated with
chartDigest when the roles set it. Never on the pod template: a new chart version must not
restart pods that render the same. */}}
{{- define "matrixk8s.workloadMetadata" -}}
{{- $annotations := dict -}}
{{- with .root.Values.chartDigest -}}
{{- $_ := set $annotations "matrixk8s.synapse/chart-digest" . -}}
{{- end -}}
{{- include "matrixk8s.metadata" (merge (dict "annotations" $annotations) .) -}}
{{- end -}}
