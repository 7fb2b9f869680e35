{{/* matrixk8s-lib: workload helpers (calling convention: charts/matrixk8s-lib/README.md). */}}

{{/* A Deployment's strategy. "persistence" (optional, a persistence value: enabled,
accessModes): a ReadWriteOnce volume can be attached to one node only, so a rolling update
(new pod before the old one goes) can wait forever for the volume; Recreate stops the old
pod first. Without such a volume: one new pod at a time, none unavailable. */}}
{{- define "matrixk8s.deploymentStrategy" -}}
{{- $p := .persistence | default dict -}}
{{- if and $p.enabled (or (has "ReadWriteOnce" $p.accessModes) (has "ReadWriteOncePod" $p.accessModes)) -}}
type: Recreate
{{- else -}}
type: RollingUpdate
rollingUpdate:
  maxSurge: 1
  maxUnavailable: 0
{{- end -}}
{{- end -}}

{{/* A PersistentVolumeClaim's spec from the chart's persistence value (accessModes,
storageClass: empty = the cluster's default, size). */}}
{{- define "matrixk8s.claimSpec" -}}
{{- $p := .root.Values.persistence -}}
accessModes:
  {{- toYaml $p.accessModes | nindent 2 }}
{{- with $p.storageClass }}
storageClassName: {{ . | quote }}
{{- end }}
resources:
  requests:
    storage: {{ $p.size | quote }}
{{- end -}}

{{/* The name of a Secret the chart mounts but never creates (the roles create it, once).
"path": the value's dotted path (e.g. auth.existingSecret); "holding": what the Secret holds;
"example": a name for the message; "why" (optional): added to "the chart never creates it". */}}
{{- define "matrixk8s.existingSecret" -}}
{{- $value := .root.Values -}}
{{- range splitList "." .path -}}
{{- $value = index $value . -}}
{{- end -}}
{{- $why := .why | default "" -}}
{{- $message := printf "%s is required: the name of an existing Secret holding %s (the chart never creates it%s), e.g. --set %s=%s" .path .holding (ternary (printf ", %s" $why) "" (ne $why "")) .path .example -}}
{{- required $message $value -}}
{{- end -}}
