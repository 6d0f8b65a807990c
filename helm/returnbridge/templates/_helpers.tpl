{{- define "returnbridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "returnbridge.fullname" -}}
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

{{- define "returnbridge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "returnbridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "returnbridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "returnbridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The roles this release runs as Deployments: [api gateway] split, or [all]. */}}
{{- define "returnbridge.roles" -}}
{{- if eq .Values.mode "all" -}}all{{- else -}}api gateway{{- end -}}
{{- end -}}

{{/* The Deployment component whose pods serve `role`'s Service (its own, or "all"). */}}
{{- define "returnbridge.serving" -}}
{{- if eq .root.Values.mode "all" -}}all{{- else -}}{{ .role }}{{- end -}}
{{- end -}}

{{- define "returnbridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "returnbridge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "returnbridge.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion | toString -}}
{{- if eq $tag "latest" -}}
{{- fail "image.tag must name a release, not \"latest\" (it defaults to the chart's appVersion)" -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The Secret and key holding database.url. */}}
{{- define "returnbridge.databaseSecretName" -}}
{{- default (printf "%s-database" (include "returnbridge.fullname" .)) .Values.database.existingSecret -}}
{{- end -}}

{{- define "returnbridge.databaseUrlEnv" -}}
- name: RETURNBRIDGE_DATABASE__URL
  valueFrom:
    secretKeyRef:
      name: {{ include "returnbridge.databaseSecretName" . }}
      key: {{ .Values.database.secretKey }}
{{- end -}}

{{- define "returnbridge.configFile" -}}/etc/returnbridge/returnbridge.toml{{- end -}}

{{/* returnbridge.toml: the values' config plus the listen address every pod needs. Written by
     hand, not toToml: values arrive as float64 and the binary's integer keys refuse `30.0`. */}}
{{- define "returnbridge.toml" -}}
{{- $config := deepCopy .Values.config -}}
{{- $server := get $config "server" | default dict -}}
{{- $_ := set $server "listen" (printf "0.0.0.0:%d" (int .Values.grpcPort)) -}}
{{- $_ := set $config "server" $server -}}
{{- $telemetry := get $config "telemetry" | default dict -}}
{{- $_ := set $telemetry "metrics_listen" (printf "0.0.0.0:%d" (int .Values.metricsPort)) -}}
{{- $_ := set $config "telemetry" $telemetry -}}
{{- $gateway := get $config "gateway" | default dict -}}
{{- $_ := set $gateway "callback_listen" (printf "0.0.0.0:%d" (int .Values.callbackPort)) -}}
{{- $_ := set $config "gateway" $gateway -}}
{{- range $section := keys $config | sortAlpha }}
[{{ $section }}]
{{- $table := get $config $section }}
{{- range $key := keys $table | sortAlpha }}
{{- $v := get $table $key }}
{{ $key }} = {{ if kindIs "string" $v }}{{ toJson $v }}{{ else if kindIs "bool" $v }}{{ $v }}{{ else if kindIs "float64" $v }}{{ int64 $v }}{{ else }}{{ $v }}{{ end }}
{{- end }}
{{ end -}}
{{- end -}}

{{/* The one place a PDB's minAvailable is checked against the replicas it protects. */}}
{{- define "returnbridge.checkPdb" -}}
{{- $r := .values -}}
{{- if $r.podDisruptionBudget.enabled -}}
{{- $floor := ternary $r.autoscaling.minReplicas $r.replicaCount $r.autoscaling.enabled | int -}}
{{- $min := $r.podDisruptionBudget.minAvailable -}}
{{- if and (kindIs "string" $min) (hasSuffix "%" $min) -}}
{{- if ge (int (trimSuffix "%" $min)) 100 -}}
{{- fail (printf "%s.podDisruptionBudget.minAvailable %s would block every eviction" .role $min) -}}
{{- end -}}
{{- else if ge (int $min) $floor -}}
{{- fail (printf "%s.podDisruptionBudget.minAvailable (%v) must be below its replica count (%d), or nodes never drain" .role $min $floor) -}}
{{- end -}}
{{- end -}}
{{- end -}}
