{{/* The chart name, for labels. */}}
{{- define "kros-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: the release name, plus the chart name unless
the release name contains it. `helm install kros-operator` gives the names
`make build-installer` gives (kros-operator-controller-manager, ...).
*/}}
{{- define "kros-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else if contains (include "kros-operator.name" .) .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "kros-operator.name" .) | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* The manager's Deployment and ServiceAccount. */}}
{{- define "kros-operator.managerName" -}}
{{ include "kros-operator.fullname" . }}-controller-manager
{{- end }}

{{/* Every object's labels. */}}
{{- define "kros-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "kros-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The manager's pods, as the Deployment and the metrics Service select them. */}}
{{- define "kros-operator.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ include "kros-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount as an RBAC subject. */}}
{{- define "kros-operator.subject" -}}
- kind: ServiceAccount
  name: {{ include "kros-operator.managerName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}

{{/* The metrics Service's name: the job label of the ServiceMonitor's targets. */}}
{{- define "kros-operator.metricsServiceName" -}}
{{ printf "%s-controller-manager-metrics-service" (include "kros-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The event receiver's Service and Ingress. */}}
{{- define "kros-operator.eventReceiverName" -}}
{{ printf "%s-event-receiver" (include "kros-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Where the event receiver's certificate Secret is mounted (--event-receiver-cert-dir). */}}
{{- define "kros-operator.eventReceiverCertDir" -}}
/tmp/k8s-event-receiver/certs
{{- end }}

{{/*
The leader election Lease: leaderElection.id, else the manager's default, or
for a shard (watchLabelSelector) one named after the release, which no other
release in the namespace shares.
*/}}
{{- define "kros-operator.leaseName" -}}
{{- if .Values.leaderElection.id }}
{{- .Values.leaderElection.id }}
{{- else if .Values.watchLabelSelector }}
{{- printf "%s.cockpit.krosai.com" (include "kros-operator.fullname" .) }}
{{- else }}
{{- "kros-operator.cockpit.krosai.com" }}
{{- end }}
{{- end }}
