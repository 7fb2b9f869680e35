{{/* What only this chart has. The shared helpers (names, labels, pods, probes, strategy,
Service, Ingress) are in charts/matrixk8s-lib; both kinds take the same argument,
(dict "root" . ...): charts/matrixk8s-lib/README.md. */}}

{{/* Where the ConfigMap (nginx.conf and the JSON files) is mounted. */}}
{{- define "well-known.configDir" -}}/etc/nginx/matrix{{- end -}}

{{/* One JSON location of nginx.conf. Args: "name" (server, client or support) and "doc" (its
value). An empty document answers 404. CORS headers are required on /client (browsers fetch
it) and harmless on the others; "always" adds them to error answers too. */}}
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
    alias {{ include "well-known.configDir" . }}/{{ .name }}.json;
{{- else }}
    # {{ .name }} is empty in the values: not published.
    add_header Access-Control-Allow-Origin "*" always;
    return 404;
{{- end }}
}
{{- end -}}
