{{/* matrixk8s-lib: names. Every helper of this library takes ONE dict, the chart's top
context as "root" plus named arguments, e.g.
  include "matrixk8s.fullname" (dict "root" .)
  include "matrixk8s.labels" (dict "root" . "component" "homeserver")
The whole list with the arguments of each helper: charts/matrixk8s-lib/README.md. */}}

{{/* app.kubernetes.io/name: the chart's name (nameOverride wins). */}}
{{- define "matrixk8s.name" -}}
{{- default .root.Chart.Name .root.Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Objects are named after the release (fullnameOverride wins), so the names the roles and
docs/architecture.md promise (e.g. the Service synapse-postgres) are the release names. */}}
{{- define "matrixk8s.fullname" -}}
{{- default .root.Release.Name .root.Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* fullname + "suffix" (e.g. "-headless"); the base is cut so the name always fits in the
63 characters of a Kubernetes label value or DNS label. */}}
{{- define "matrixk8s.suffixedName" -}}
{{- $room := sub 63 (len .suffix) | int -}}
{{- printf "%s%s" (include "matrixk8s.fullname" . | trunc $room | trimSuffix "-") .suffix -}}
{{- end -}}
