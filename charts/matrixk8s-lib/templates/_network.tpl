{{/* matrixk8s-lib: Service and Ingress (calling convention: charts/matrixk8s-lib/README.md). */}}

{{/* The chart's client Service, named after the release, from service.{type,port,annotations}:
one TCP port "portName" sent to the container port of the same name. */}}
{{- define "matrixk8s.service" -}}
{{- $values := .root.Values -}}
apiVersion: v1
kind: Service
metadata:
  {{- include "matrixk8s.metadata" (merge (dict "annotations" $values.service.annotations) .) | nindent 2 }}
spec:
  type: {{ $values.service.type }}
  selector:
    {{- include "matrixk8s.selectorLabels" . | nindent 4 }}
  ports:
    - name: {{ .portName }}
      port: {{ $values.service.port }}
      targetPort: {{ .portName }}
      protocol: TCP
{{- end -}}

{{/* The chart's Ingress, named after the release, from ingress.{className,annotations,host,tls}:
each of "paths" (a list) as a Prefix to the chart's Service. "hostHint" completes the message
when ingress.host is missing. GKE and the API server reject the legacy class annotation next
to spec.ingressClassName, so that combination is refused here with a readable message. TLS
entries without hosts get ingress.host. */}}
{{- define "matrixk8s.ingress" -}}
{{- $values := .root.Values -}}
{{- if and $values.ingress.className (hasKey $values.ingress.annotations "kubernetes.io/ingress.class") -}}
{{- fail "ingress.className and the annotation kubernetes.io/ingress.class are both set; use only one" -}}
{{- end -}}
{{- $host := required (printf "ingress.host is required when ingress.enabled: %s" .hostHint) $values.ingress.host -}}
{{- $service := include "matrixk8s.fullname" . -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  {{- include "matrixk8s.metadata" (merge (dict "annotations" $values.ingress.annotations) .) | nindent 2 }}
spec:
  {{- with $values.ingress.className }}
  ingressClassName: {{ . | quote }}
  {{- end }}
  {{- with $values.ingress.tls }}
  tls:
    {{- range . }}
    - hosts:
        {{- toYaml (default (list $host) .hosts) | nindent 8 }}
      {{- with .secretName }}
      secretName: {{ . | quote }}
      {{- end }}
    {{- end }}
  {{- end }}
  rules:
    - host: {{ $host | quote }}
      http:
        paths:
          {{- range .paths }}
          - path: {{ . | quote }}
            pathType: Prefix
            backend:
              service:
                name: {{ $service }}
                port:
                  number: {{ $values.service.port }}
          {{- end }}
{{- end -}}

{{/* The chart's NetworkPolicies (networkPolicy.enabled), two with predictable names:
  <release>-deny-ingress   selects every pod of the release (app.kubernetes.io/instance) and
                           lets nothing in: the default for our pods, not the namespace's;
  <release>-allow-ingress  selects the chart's workload pods (matrixk8s.selectorLabels) and
                           lets in TCP to each of "ports" (container port names), from the
                           pods of this namespace matching one of "clients" (a list of label
                           maps), or from anywhere when "clients" is empty.
Egress is not restricted (Synapse federates with any server; see charts/README.md). */}}
{{- define "matrixk8s.networkPolicies" -}}
{{- if .root.Values.networkPolicy.enabled -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  {{- include "matrixk8s.metadata" (merge (dict "name" (include "matrixk8s.suffixedName" (merge (dict "suffix" "-deny-ingress") .))) .) | nindent 2 }}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/instance: {{ .root.Release.Name }}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  {{- include "matrixk8s.metadata" (merge (dict "name" (include "matrixk8s.suffixedName" (merge (dict "suffix" "-allow-ingress") .))) .) | nindent 2 }}
spec:
  podSelector:
    matchLabels:
      {{- include "matrixk8s.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress]
  ingress:
    - ports:
        {{- range .ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      {{- with .clients }}
      from:
        {{- range . }}
        - podSelector:
            matchLabels:
              {{- toYaml . | nindent 14 }}
        {{- end }}
      {{- end }}
{{- end -}}
{{- end -}}
