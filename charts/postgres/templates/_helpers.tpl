{{/* The environment both containers share: the image's POSTGRES_* contract (the superuser),
the database owner (Synapse's login) for files/database-roles.sh, PGDATA and PGPORT. */}}
{{- define "postgres.env" -}}
{{- if eq .Values.auth.superuser .Values.auth.username -}}
{{- fail (printf "auth.superuser and auth.username are both %q: the database owner (Synapse's login) must not be the superuser" .Values.auth.username) -}}
{{- end -}}
{{- $secret := include "matrixk8s.existingSecret" (dict "root" . "path" "auth.existingSecret" "holding" "the database passwords" "example" "synapse-postgres-password") -}}
- name: POSTGRES_DB
  value: {{ .Values.auth.database | quote }}
- name: POSTGRES_USER
  value: {{ .Values.auth.superuser | quote }}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.auth.superuserSecretKey | quote }}
- name: DATABASE_OWNER
  value: {{ .Values.auth.username | quote }}
- name: DATABASE_OWNER_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.auth.secretKey | quote }}
# Synapse refuses a database whose collation and ctype are not C.
- name: POSTGRES_INITDB_ARGS
  value: {{ .Values.initdbArgs | quote }}
- name: PGDATA
  value: {{ printf "%s/pgdata" (trimSuffix "/" .Values.persistence.mountPath) | quote }}
# The server's default port and the one pg_isready asks.
- name: PGPORT
  value: {{ .Values.containerPort | quote }}
{{- end -}}

{{/* The mounts both containers share. */}}
{{- define "postgres.volumeMounts" -}}
- name: data
  mountPath: {{ .Values.persistence.mountPath | quote }}
# The unix socket and lock file (the root filesystem is read-only).
- name: run
  mountPath: /var/run/postgresql
- name: tmp
  mountPath: /tmp
- name: shm
  mountPath: /dev/shm
# files/database-roles.sh, run by the image at first start and by the init container after.
- name: roles
  mountPath: /docker-entrypoint-initdb.d
  readOnly: true
{{- end -}}
