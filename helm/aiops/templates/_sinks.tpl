{{/* The sinks' targets; tokens only as _FILE paths of mounted Secrets. */}}
{{- define "aiops.sinksList" -}}
{{- $list := list -}}
{{- if .Values.sinks.alertmanager.enabled }}{{ $list = append $list "alertmanager" }}{{ end -}}
{{- if .Values.sinks.grafana.enabled }}{{ $list = append $list "grafana" }}{{ end -}}
{{- if .Values.sinks.influxdb.enabled }}{{ $list = append $list "influxdb" }}{{ end -}}
{{- join "," $list -}}
{{- end -}}

{{- define "aiops.sinksEnv" -}}
- name: AIOPS_SINKS
  value: {{ include "aiops.sinksList" . | quote }}
{{- with .Values.sinks.alertmanager }}
{{- if .enabled }}
- name: AIOPS_ALERTMANAGER_URL
  value: {{ .url | quote }}
- name: AIOPS_ALERTMANAGER_RESEND_MS
  value: {{ .resendMs | quote }}
{{- if .tokenSecret }}
- name: AIOPS_ALERTMANAGER_TOKEN_FILE
  value: /etc/aiops/sinks/alertmanager/token
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.sinks.grafana }}
{{- if .enabled }}
- name: AIOPS_GRAFANA_URL
  value: {{ .url | quote }}
- name: AIOPS_GRAFANA_TOKEN_FILE
  value: /etc/aiops/sinks/grafana/token
{{- if .dashboardUid }}
- name: AIOPS_GRAFANA_DASHBOARD_UID
  value: {{ .dashboardUid | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- if .Values.sinks.influxdb.enabled }}
- name: AIOPS_INFLUXDB_URL
  value: {{ include "aiops.influxdbUrl" . | quote }}
- name: AIOPS_INFLUXDB_BUCKET
  value: {{ .Values.sinks.influxdb.bucket | quote }}
{{- if .Values.sinks.influxdb.tokenSecret }}
- name: AIOPS_INFLUXDB_TOKEN_FILE
  value: /etc/aiops/sinks/influxdb/token
{{- end }}
{{- end }}
{{- with .Values.sinks.runbookUrl }}
- name: AIOPS_RUNBOOK_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.sinks.dashboardUrl }}
- name: AIOPS_DASHBOARD_URL
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{- define "aiops.sinksVolumeMounts" -}}
{{- range $sink := list "alertmanager" "grafana" "influxdb" }}
{{- $s := index $.Values.sinks $sink }}
{{- if and $s.enabled $s.tokenSecret }}
- name: {{ $sink }}-token
  mountPath: /etc/aiops/sinks/{{ $sink }}
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}

{{- define "aiops.sinksVolumes" -}}
{{- range $sink := list "alertmanager" "grafana" "influxdb" }}
{{- $s := index $.Values.sinks $sink }}
{{- if and $s.enabled $s.tokenSecret }}
- name: {{ $sink }}-token
  secret:
    secretName: {{ $s.tokenSecret }}
    defaultMode: 288  # 0440: read for the owner and group (fsGroup 10001)
    items:
      - { key: {{ $s.tokenKey }}, path: token }
{{- end }}
{{- end }}
{{- end -}}
