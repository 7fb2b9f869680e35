{{/* Names and labels. Objects are named after the release (fullnameOverride wins): release
"synapse" gives the Service "synapse" and the media PVC "synapse-media". */}}

{{- define "synapse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "synapse.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "synapse.mediaClaimName" -}}
{{- if .Values.persistence.existingClaim -}}
{{- .Values.persistence.existingClaim -}}
{{- else -}}
{{- printf "%s-media" (include "synapse.fullname" . | trunc 57 | trimSuffix "-") -}}
{{- end -}}
{{- end -}}

{{- define "synapse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "synapse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "synapse.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "synapse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | toString | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: homeserver
app.kubernetes.io/part-of: matrixk8s-synapse
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "synapse.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | toString) -}}
{{- end -}}

{{/* Required inputs: the chart never creates a Secret. */}}
{{- define "synapse.configSecret" -}}
{{- required "config.existingSecret is required: the name of an existing Secret holding homeserver.yaml (the chart never creates it), e.g. --set config.existingSecret=synapse-config" .Values.config.existingSecret -}}
{{- end -}}

{{- define "synapse.signingKeySecret" -}}
{{- required "signingKey.existingSecret is required: the name of an existing Secret holding the signing key (the chart never creates it, so the key survives reinstalls), e.g. --set signingKey.existingSecret=synapse-signing-key" .Values.signingKey.existingSecret -}}
{{- end -}}

{{/* A ReadWriteOnce volume can be attached to one node only, so a rolling update (new pod
before old pod goes) can wait forever for the volume: Recreate stops the old pod first. */}}
{{- define "synapse.strategy" -}}
{{- $p := .Values.persistence -}}
{{- if and $p.enabled (or (has "ReadWriteOnce" $p.accessModes) (has "ReadWriteOncePod" $p.accessModes)) -}}
type: Recreate
{{- else -}}
type: RollingUpdate
rollingUpdate:
  maxSurge: 1
  maxUnavailable: 0
{{- end -}}
{{- end -}}

{{/* Pod Security "restricted": pod level ... */}}
{{- define "synapse.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
fsGroup: {{ .Values.podSecurityContext.fsGroup }}
# A large media volume is not re-chowned on every start.
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* ... and container level. */}}
{{- define "synapse.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "synapse.probeTiming" -}}
initialDelaySeconds: {{ .initialDelaySeconds }}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- end -}}

{{/* The init container's program: wait until database.host:port accepts a TCP connection,
printing progress; exit 1 after database.waitTimeoutSeconds. Runs with the synapse image's
python, so no extra image is pulled. Inputs come from env, never spliced into the code. */}}
{{- define "synapse.waitForDatabaseScript" -}}
import os, socket, sys, time
host, port = os.environ["DB_HOST"], int(os.environ["DB_PORT"])
limit, step = float(os.environ["WAIT_TIMEOUT_SECONDS"]), float(os.environ["CONNECT_TIMEOUT_SECONDS"])
start = time.monotonic()
while True:
    try:
        socket.create_connection((host, port), timeout=step).close()
        print(f"wait-for-database: {host}:{port} accepts connections ({time.monotonic() - start:.0f}s)", flush=True)
        sys.exit(0)
    except OSError as error:
        waited = time.monotonic() - start
        if waited >= limit:
            sys.exit(f"wait-for-database: gave up after {waited:.0f}s, {host}:{port} is not reachable: {error}")
        print(f"wait-for-database: waiting for {host}:{port} ({waited:.0f}s of {limit:.0f}s): {error}", flush=True)
        time.sleep(max(0.0, min(2.0, limit - waited)))
{{- end -}}

{{/* Ingress: GKE and the API server reject the legacy class annotation next to
spec.ingressClassName, so refuse the combination here with a readable message. */}}
{{- define "synapse.ingressChecks" -}}
{{- if and .Values.ingress.className (hasKey .Values.ingress.annotations "kubernetes.io/ingress.class") -}}
{{- fail "ingress.className and the annotation kubernetes.io/ingress.class are both set; use only one" -}}
{{- end -}}
{{- end -}}
