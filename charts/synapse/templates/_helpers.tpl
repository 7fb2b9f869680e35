{{/* What only this chart has. The shared helpers (names, labels, pods, probes, strategy,
Service, Ingress, Secrets) are in charts/matrixk8s-lib; both kinds take the same argument,
(dict "root" . ...): charts/matrixk8s-lib/README.md. */}}

{{/* The media claim: persistence.existingClaim, else "<release>-media" (created by pvc.yaml). */}}
{{- define "synapse.mediaClaimName" -}}
{{- if .root.Values.persistence.existingClaim -}}
{{- .root.Values.persistence.existingClaim -}}
{{- else -}}
{{- include "matrixk8s.suffixedName" (dict "root" .root "suffix" "-media") -}}
{{- end -}}
{{- end -}}

{{/* "true" when federationCA names a ConfigMap or a Secret (mounted at /federation-ca), ""
otherwise; both at once is a mistake: which one would homeserver.yaml's path read? */}}
{{- define "synapse.federationCA" -}}
{{- $ca := .root.Values.federationCA -}}
{{- if and $ca.configMapName $ca.secretName -}}
{{- fail "federationCA: set configMapName or secretName, not both" -}}
{{- end -}}
{{- if or $ca.configMapName $ca.secretName -}}true{{- end -}}
{{- end -}}
