{{/* Names and labels. */}}
{{- define "aiops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "aiops.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object; pass (dict "root" $ "component" "ingest"). */}}
{{- define "aiops.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{ include "aiops.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: aiops
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "aiops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aiops.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{- define "aiops.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "aiops.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "aiops.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Where the collector sends traces. */}}
{{- define "aiops.tracesEndpoint" -}}
{{- if .Values.traces.endpoint -}}
{{- .Values.traces.endpoint -}}
{{- else if eq .Values.traces.backend "jaeger" -}}
{{- if .Values.jaeger.enabled -}}{{ include "aiops.fullname" . }}-jaeger:4317{{- else -}}jaeger:4317{{- end -}}
{{- else -}}
tempo:4317
{{- end -}}
{{- end -}}

{{- define "aiops.influxdbUrl" -}}
{{- if .Values.sinks.influxdb.url -}}
{{- .Values.sinks.influxdb.url -}}
{{- else if .Values.influxdb.enabled -}}
http://{{ include "aiops.fullname" . }}-influxdb:8086
{{- end -}}
{{- end -}}

{{/* Pod-level settings shared by every platform pod: (dict "root" $ "component" "ingest" "values" .Values.ingest). */}}
{{- define "aiops.podCommon" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
serviceAccountName: {{ include "aiops.serviceAccountName" .root }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ .root.Values.terminationGracePeriodSeconds }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .root.Values.topologySpread.enabled }}
topologySpreadConstraints:
  - maxSkew: {{ .root.Values.topologySpread.maxSkew }}
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: {{ .root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "aiops.selectorLabels" (dict "root" .root "component" .component) | nindent 8 }}
  {{- if .root.Values.topologySpread.zoneSpread }}
  - maxSkew: {{ .root.Values.topologySpread.maxSkew }}
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: {{ .root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "aiops.selectorLabels" (dict "root" .root "component" .component) | nindent 8 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* The Kafka client settings of the contract (AIOPS_KAFKA_*); secrets only as _FILE paths. */}}
{{- define "aiops.kafkaEnv" -}}
{{ include "aiops.kafkaBaseEnv" . }}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}
{{- if .Values.kafka.sasl.username }}
- name: AIOPS_KAFKA_SASL_USERNAME
  value: {{ .Values.kafka.sasl.username | quote }}
{{- else }}
- name: AIOPS_KAFKA_SASL_USERNAME_FILE
  value: /etc/aiops/kafka/sasl/username
{{- end }}
- name: AIOPS_KAFKA_SASL_PASSWORD_FILE
  value: /etc/aiops/kafka/sasl/password
{{- end }}
{{- end -}}

{{/* Brokers, protocol, mechanism and the TLS files: what the processes and the collector share. */}}
{{- define "aiops.kafkaBaseEnv" -}}
- name: AIOPS_KAFKA_BROKERS
  value: {{ .Values.kafka.brokers | quote }}
- name: AIOPS_KAFKA_SECURITY_PROTOCOL
  value: {{ .Values.kafka.securityProtocol | quote }}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}
- name: AIOPS_KAFKA_SASL_MECHANISM
  value: {{ .Values.kafka.sasl.mechanism | quote }}
{{- end }}
{{- if or (eq .Values.kafka.securityProtocol "SSL") (eq .Values.kafka.securityProtocol "SASL_SSL") }}
{{- if .Values.kafka.tls.caSecret }}
- name: AIOPS_KAFKA_SSL_CA_FILE
  value: /etc/aiops/kafka/ca/ca.crt
{{- end }}
{{- if .Values.kafka.tls.certSecret }}
- name: AIOPS_KAFKA_SSL_CERT_FILE
  value: /etc/aiops/kafka/cert/tls.crt
- name: AIOPS_KAFKA_SSL_KEY_FILE
  value: /etc/aiops/kafka/cert/tls.key
{{- if .Values.kafka.tls.keyPasswordKey }}
- name: AIOPS_KAFKA_SSL_KEY_PASSWORD_FILE
  value: /etc/aiops/kafka/cert/key-password
{{- end }}
{{- end }}
{{- if .Values.kafka.tls.serverName }}
- name: AIOPS_KAFKA_SSL_SERVERNAME
  value: {{ .Values.kafka.tls.serverName | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "aiops.kafkaVolumeMounts" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}
- name: kafka-sasl
  mountPath: /etc/aiops/kafka/sasl
  readOnly: true
{{- end }}
{{- include "aiops.kafkaTlsVolumeMounts" . }}
{{- end -}}

{{/* The CA and client certificate files (the collector needs only these: it reads SASL from env). */}}
{{- define "aiops.kafkaTlsVolumeMounts" -}}
{{- if or (eq .Values.kafka.securityProtocol "SSL") (eq .Values.kafka.securityProtocol "SASL_SSL") }}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/aiops/kafka/ca
  readOnly: true
{{- end }}
{{- if .Values.kafka.tls.certSecret }}
- name: kafka-cert
  mountPath: /etc/aiops/kafka/cert
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}

{{- define "aiops.kafkaVolumes" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}
- name: kafka-sasl
  secret:
    secretName: {{ .Values.kafka.sasl.existingSecret }}
    defaultMode: 288  # 0440: read for the owner and group (fsGroup 10001)
    items:
      {{- if not .Values.kafka.sasl.username }}
      - { key: {{ .Values.kafka.sasl.usernameKey }}, path: username }
      {{- end }}
      - { key: {{ .Values.kafka.sasl.passwordKey }}, path: password }
{{- end }}
{{- include "aiops.kafkaTlsVolumes" . }}
{{- end -}}

{{- define "aiops.kafkaTlsVolumes" -}}
{{- if or (eq .Values.kafka.securityProtocol "SSL") (eq .Values.kafka.securityProtocol "SASL_SSL") }}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret }}
    defaultMode: 288  # 0440: read for the owner and group (fsGroup 10001)
    items:
      - { key: {{ .Values.kafka.tls.caKey }}, path: ca.crt }
{{- end }}
{{- if .Values.kafka.tls.certSecret }}
- name: kafka-cert
  secret:
    secretName: {{ .Values.kafka.tls.certSecret }}
    defaultMode: 288  # 0440: read for the owner and group (fsGroup 10001)
    items:
      - { key: {{ .Values.kafka.tls.certKey }}, path: tls.crt }
      - { key: {{ .Values.kafka.tls.keyKey }}, path: tls.key }
      {{- if .Values.kafka.tls.keyPasswordKey }}
      - { key: {{ .Values.kafka.tls.keyPasswordKey }}, path: key-password }
      {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Environment of every platform container (after the component's own variables). */}}
{{- define "aiops.commonEnv" -}}
- name: AIOPS_HTTP_HOST
  value: 0.0.0.0
- name: AIOPS_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{ include "aiops.kafkaEnv" . }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Probes of a platform process on its HTTP port. */}}
{{- define "aiops.probes" -}}
startupProbe:
  httpGet: { path: /health, port: http }
  periodSeconds: 5
  failureThreshold: 60
livenessProbe:
  httpGet: { path: /health, port: http }
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /ready, port: http }
  periodSeconds: 5
  timeoutSeconds: 5
  failureThreshold: 3
{{- end -}}

{{/* Cross-field checks the schema cannot express, with messages that say what to change. */}}
{{- define "aiops.validate" -}}
{{- $partitions := int .Values.kafka.topics.partitions -}}
{{- range $component := list "ingest" "evaluate" -}}
{{- $a := (index $.Values $component).autoscaling -}}
{{- if and $a.enabled (gt (int $a.maxReplicas) $partitions) -}}
{{- fail (printf "%s.autoscaling.maxReplicas (%d) is above kafka.topics.partitions (%d): a replica beyond the partition count gets no partition and idles" $component (int $a.maxReplicas) $partitions) -}}
{{- end -}}
{{- if and $a.enabled (gt (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- fail (printf "%s.autoscaling.minReplicas (%d) is above its maxReplicas (%d)" $component (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.kafka.strimzi.enabled (not .Values.kafka.strimzi.clusterName) -}}
{{- fail "kafka.strimzi.enabled needs kafka.strimzi.clusterName (the Kafka resource the Topic Operator manages)" -}}
{{- end -}}
{{- if and .Values.sinks.influxdb.enabled (not (include "aiops.influxdbUrl" .)) -}}
{{- fail "sinks.influxdb.enabled needs sinks.influxdb.url, or influxdb.enabled for the chart's own InfluxDB" -}}
{{- end -}}
{{- if and .Values.sinks.grafana.enabled (not .Values.sinks.grafana.tokenSecret) -}}
{{- fail "sinks.grafana.enabled needs sinks.grafana.tokenSecret (a Secret with a Grafana service-account token)" -}}
{{- end -}}
{{- end -}}

{{/* GOMEMLIMIT at 80% of a memory limit given as Mi or Gi (the collector is a Go program). */}}
{{- define "aiops.goMemLimit" -}}
{{- $limit := toString (default "1Gi" (dig "limits" "memory" "" .)) -}}
{{- $mib := 1024 -}}
{{- if hasSuffix "Gi" $limit -}}{{- $mib = mul (trimSuffix "Gi" $limit | int) 1024 -}}
{{- else if hasSuffix "Mi" $limit -}}{{- $mib = trimSuffix "Mi" $limit | int -}}
{{- end -}}
{{- printf "%dMiB" (div (mul $mib 4) 5) -}}
{{- end -}}

{{/*
The collector's SASL overlay (compose/otelcol/kafka-sasl.yaml) reads the plain variables, not the
_FILE forms: the password comes from the Secret by reference (valueFrom), never as a value.
*/}}
{{- define "aiops.collectorSecretEnv" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}
- name: AIOPS_KAFKA_SASL_USERNAME
  {{- if .Values.kafka.sasl.username }}
  value: {{ .Values.kafka.sasl.username | quote }}
  {{- else }}
  valueFrom:
    secretKeyRef: { name: {{ .Values.kafka.sasl.existingSecret }}, key: {{ .Values.kafka.sasl.usernameKey }} }
  {{- end }}
- name: AIOPS_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef: { name: {{ .Values.kafka.sasl.existingSecret }}, key: {{ .Values.kafka.sasl.passwordKey }} }
{{- end }}
{{- end -}}
