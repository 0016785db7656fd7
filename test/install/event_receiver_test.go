/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package install

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The event receiver's Service and Ingress, in both bundles.
const eventReceiverName = "kros-operator-event-receiver"

// The chart's values that expose the event receiver each way: behind an
// Ingress that terminates TLS, and as a LoadBalancer the manager serves TLS on.
const (
	eventReceiverIngress = `
eventReceiver:
  enabled: true
  ingress:
    enabled: true
    className: nginx
    annotations: {cert-manager.io/cluster-issuer: letsencrypt}
    hosts:
    - host: events.acme.test
    - host: hooks.acme.test
      paths: [{path: /krosai/events/team-a, pathType: ImplementationSpecific}, {path: /krosai/events/team-b}]
    tls: [{secretName: events-tls, hosts: [events.acme.test, hooks.acme.test]}]`
	eventReceiverLoadBalancer = `
eventReceiver:
  enabled: true
  port: 9555
  certSecretName: events-cert
  service:
    type: LoadBalancer
    port: 443
    annotations: {service.beta.kubernetes.io/aws-load-balancer-type: nlb}`
)

// The kustomize opt-ins: the event receiver component, the certificate it
// can serve HTTPS with, and the NetworkPolicy it opens the events port in.
var (
	eventReceiverOptIn = optIn{"default/kustomization.yaml", "- ../event-receiver"}
	eventCertOptIn     = optIn{"event-receiver/kustomization.yaml", "- path: manager_cert_patch.yaml"}
	networkPolicyOptIn = optIn{"default/kustomization.yaml", "- ../network-policy"}
)

// checkEventReceiverOff: nothing of the event receiver is rendered.
func checkEventReceiverOff(t *testing.T, b bundle) {
	t.Helper()
	g := NewWithT(t)
	dep, c := b.manager(t)
	g.Expect(flags(c.Args)).NotTo(HaveKey("event-receiver-bind-address"))
	g.Expect(flags(c.Args)).NotTo(HaveKey("event-receiver-cert-dir"))
	g.Expect(c.Ports).NotTo(ContainElement(HaveField("Name", "events")))
	g.Expect(c.VolumeMounts).To(BeEmpty())
	g.Expect(dep.Spec.Template.Spec.Volumes).To(BeEmpty())
	g.Expect(b.find("Service", eventReceiverName)).To(BeNil())
	g.Expect(b.all("Ingress")).To(BeEmpty())
}

// eventReceiverService returns the event receiver's Service, which must
// target the container port "events" with a single port.
func eventReceiverService(t *testing.T, b bundle) *corev1.Service {
	t.Helper()
	o := b.find("Service", eventReceiverName)
	if o == nil {
		t.Fatalf("no Service %s", eventReceiverName)
	}
	svc := &corev1.Service{}
	convert(t, o, svc)
	g := NewWithT(t)
	g.Expect(svc.Spec.Ports).To(HaveLen(1))
	g.Expect(svc.Spec.Ports[0].TargetPort).To(Equal(intstr.FromString("events")))
	g.Expect(svc.Spec.Ports[0].Protocol).To(Equal(corev1.ProtocolTCP))
	return svc
}

// The event receiver is off by default, and its other values alone turn
// nothing of it on.
func TestChartEventReceiverOff(t *testing.T) {
	checkEventReceiverOff(t, render(t, ""))
	checkEventReceiverOff(t, render(t, "eventReceiver: {certSecretName: events-cert, ingress: {enabled: true}}"))
}

func TestChartEventReceiver(t *testing.T) {
	g := NewWithT(t)
	b := render(t, "eventReceiver: {enabled: true}")
	checkBundle(t, b, expect{
		namespace: helmNamespace, prefix: "kros-operator-", image: "ghcr.io/krosai/kros-operator:" + appVersion(t),
	})
	dep, c := b.manager(t)
	g.Expect(flags(c.Args)).To(HaveKeyWithValue("event-receiver-bind-address", ":9444"))
	g.Expect(flags(c.Args)).NotTo(HaveKey("event-receiver-cert-dir"), "plain HTTP by default")
	g.Expect(c.Ports).To(ContainElement(corev1.ContainerPort{
		Name: "events", ContainerPort: 9444, Protocol: corev1.ProtocolTCP,
	}))
	g.Expect(c.VolumeMounts).To(BeEmpty())
	g.Expect(dep.Spec.Template.Spec.Volumes).To(BeEmpty())

	svc := eventReceiverService(t, b)
	g.Expect(svc.Namespace).To(Equal(helmNamespace))
	g.Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP))
	g.Expect(svc.Spec.Ports[0].Name).To(Equal("http"))
	g.Expect(svc.Spec.Ports[0].Port).To(BeEquivalentTo(9444))
	g.Expect(svc.Annotations).To(BeEmpty())
	g.Expect(b.all("Ingress")).To(BeEmpty(), "no Ingress unless asked")

	b = render(t, eventReceiverLoadBalancer)
	_, c = b.manager(t)
	g.Expect(flags(c.Args)).To(HaveKeyWithValue("event-receiver-bind-address", ":9555"))
	g.Expect(c.Ports).To(ContainElement(And(
		HaveField("Name", "events"), HaveField("ContainerPort", BeEquivalentTo(9555)))))
	svc = eventReceiverService(t, b)
	g.Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeLoadBalancer))
	g.Expect(svc.Spec.Ports[0].Name).To(Equal("https"), "the manager serves TLS")
	g.Expect(svc.Spec.Ports[0].Port).To(BeEquivalentTo(443))
	g.Expect(svc.Annotations).To(Equal(map[string]string{"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}))
}

// With certSecretName, the manager serves HTTPS with the Secret's tls.crt
// and tls.key, mounted read-only as a directory, so that a renewal reaches it.
func TestChartEventReceiverCert(t *testing.T) {
	g := NewWithT(t)
	dep, c := render(t, eventReceiverLoadBalancer).manager(t)
	g.Expect(flags(c.Args)).To(HaveKeyWithValue("event-receiver-cert-dir", "/tmp/k8s-event-receiver/certs"))
	g.Expect(c.VolumeMounts).To(ConsistOf(corev1.VolumeMount{
		Name: "event-receiver-certs", MountPath: "/tmp/k8s-event-receiver/certs", ReadOnly: true,
	}))
	g.Expect(dep.Spec.Template.Spec.Volumes).To(ConsistOf(corev1.Volume{
		Name: "event-receiver-certs",
		VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: "events-cert",
			Items:      []corev1.KeyToPath{{Key: "tls.crt", Path: "tls.crt"}, {Key: "tls.key", Path: "tls.key"}},
		}},
	}))
}

func TestChartEventReceiverIngress(t *testing.T) {
	g := NewWithT(t)
	backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: eventReceiverName, Port: networkingv1.ServiceBackendPort{Number: 9444},
	}}
	prefix, specific := networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific
	rule := func(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
		return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths},
		}}
	}

	b := render(t, eventReceiverIngress)
	ing := &networkingv1.Ingress{}
	b.only(t, "Ingress", ing)
	g.Expect(ing.Name).To(Equal(eventReceiverName))
	g.Expect(ing.Namespace).To(Equal(helmNamespace))
	g.Expect(ing.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "Helm"))
	g.Expect(ing.Annotations).To(Equal(map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt"}))
	g.Expect(ing.Spec.IngressClassName).To(HaveValue(Equal("nginx")))
	g.Expect(ing.Spec.Rules).To(Equal([]networkingv1.IngressRule{
		rule("events.acme.test", networkingv1.HTTPIngressPath{Path: "/krosai/events", PathType: &prefix, Backend: backend}),
		rule("hooks.acme.test",
			networkingv1.HTTPIngressPath{Path: "/krosai/events/team-a", PathType: &specific, Backend: backend},
			networkingv1.HTTPIngressPath{Path: "/krosai/events/team-b", PathType: &prefix, Backend: backend}),
	}))
	g.Expect(ing.Spec.TLS).To(Equal([]networkingv1.IngressTLS{
		{SecretName: "events-tls", Hosts: []string{"events.acme.test", "hooks.acme.test"}},
	}))
	g.Expect(eventReceiverService(t, b).Spec.Ports[0].Name).To(Equal("http"), "TLS ends at the Ingress")

	// The values' own host, and the Service's port as the backend's.
	ing = &networkingv1.Ingress{}
	render(t, "eventReceiver: {enabled: true, service: {port: 8080}, ingress: {enabled: true}}").only(t, "Ingress", ing)
	backend.Service.Port.Number = 8080
	g.Expect(ing.Spec.IngressClassName).To(BeNil(), "the cluster's default class")
	g.Expect(ing.Spec.TLS).To(BeEmpty())
	g.Expect(ing.Spec.Rules).To(Equal([]networkingv1.IngressRule{
		rule("krosai-events.example.com",
			networkingv1.HTTPIngressPath{Path: "/krosai/events", PathType: &prefix, Backend: backend}),
	}))

	_, _, err := renderChart(t, "eventReceiver: {enabled: true, ingress: {enabled: true, hosts: []}}")
	g.Expect(err).To(MatchError(ContainSubstring("eventReceiver.ingress.enabled needs at least one host")))
	_, _, err = renderChart(t, "eventReceiver: {enabled: true, ingress: {enabled: true, hosts: [{paths: [{path: /}]}]}}")
	g.Expect(err).To(MatchError(ContainSubstring("eventReceiver.ingress.hosts[0].host is required")))
}

// NOTES.txt says where deliveries go, and warns while no TLS is configured.
func TestChartEventReceiverNotes(t *testing.T) {
	g := NewWithT(t)
	notes := func(values string) string {
		t.Helper()
		_, out, err := renderChart(t, values)
		g.Expect(err).NotTo(HaveOccurred())
		return out["kros-operator/templates/NOTES.txt"]
	}
	const plain = "deliveries arrive in plain HTTP"
	g.Expect(notes("")).NotTo(ContainSubstring("event receiver"))
	g.Expect(notes("eventReceiver: {enabled: true}")).To(And(
		ContainSubstring("Service "+eventReceiverName+") takes"), ContainSubstring("/krosai/events/<namespace>/<name>"),
		ContainSubstring(plain)))
	g.Expect(notes(eventReceiverIngress)).To(And(ContainSubstring("behind its Ingress"), Not(ContainSubstring(plain))))
	g.Expect(notes(eventReceiverLoadBalancer)).NotTo(ContainSubstring(plain))
	g.Expect(notes("eventReceiver: {enabled: true, ingress: {enabled: true}}")).To(ContainSubstring(plain))
}

// The ServiceMonitor selects the metrics Service only: it must not scrape
// the events port.
func TestChartEventReceiverNotScraped(t *testing.T) {
	g := NewWithT(t)
	b := render(t, "{eventReceiver: {enabled: true}, monitoring: {serviceMonitor: {enabled: true}}}")
	sm := b.find("ServiceMonitor", "kros-operator-controller-manager-metrics-monitor")
	g.Expect(sm).NotTo(BeNil())
	selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	g.Expect(selector).NotTo(BeEmpty())
	labels := eventReceiverService(t, b).Labels
	matches := true
	for k, v := range selector {
		matches = matches && labels[k] == v
	}
	g.Expect(matches).To(BeFalse(), "the ServiceMonitor's selector %v selects the events Service %v", selector, labels)
}

// The kustomize bundle leaves the event receiver out unless its component is
// uncommented in config/default; then it has what the chart's
// eventReceiver.enabled gives, under the same names.
func TestInstallerEventReceiver(t *testing.T) {
	g := NewWithT(t)
	checkEventReceiverOff(t, buildInstaller(t, installerImage))

	b := buildInstaller(t, installerImage, eventReceiverOptIn)
	checkBundle(t, b, expect{namespace: installerNamespace, prefix: installerPrefix, image: installerImage})
	g.Expect(b.names()).To(ConsistOf(append(buildInstaller(t, installerImage).names(), "Service/"+eventReceiverName)),
		"the Service is the only object added")
	dep, c := b.manager(t)
	g.Expect(flags(c.Args)).To(HaveKeyWithValue("event-receiver-bind-address", ":9444"))
	g.Expect(flags(c.Args)).NotTo(HaveKey("event-receiver-cert-dir"))
	g.Expect(c.Ports).To(ContainElement(corev1.ContainerPort{
		Name: "events", ContainerPort: 9444, Protocol: corev1.ProtocolTCP,
	}))
	g.Expect(dep.Spec.Template.Spec.Volumes).To(BeEmpty())
	svc := eventReceiverService(t, b)
	g.Expect(svc.Namespace).To(Equal(installerNamespace))
	g.Expect(svc.Spec.Type).To(Or(BeEmpty(), Equal(corev1.ServiceTypeClusterIP)))
	g.Expect(svc.Spec.Ports[0].Port).To(BeEquivalentTo(9444))
	g.Expect(svc.Labels).NotTo(HaveKey("control-plane"), "config/prometheus' ServiceMonitor selects by it")

	chart := render(t, "eventReceiver: {enabled: true}")
	_, chartManager := chart.manager(t)
	g.Expect(flags(chartManager.Args)).To(HaveKeyWithValue("event-receiver-bind-address", ":9444"))
	g.Expect(eventReceiverService(t, chart).Spec.Ports[0].Port).To(Equal(svc.Spec.Ports[0].Port))

	// The certificate opt-in: HTTPS from the Secret event-receiver-cert.
	dep, c = buildInstaller(t, installerImage, eventReceiverOptIn, eventCertOptIn).manager(t)
	g.Expect(flags(c.Args)).To(HaveKeyWithValue("event-receiver-cert-dir", "/tmp/k8s-event-receiver/certs"))
	g.Expect(c.VolumeMounts).To(ConsistOf(corev1.VolumeMount{
		Name: "event-receiver-certs", MountPath: "/tmp/k8s-event-receiver/certs", ReadOnly: true,
	}))
	g.Expect(dep.Spec.Template.Spec.Volumes).To(ConsistOf(And(
		HaveField("Name", "event-receiver-certs"),
		HaveField("Secret.SecretName", "event-receiver-cert"),
		HaveField("Secret.Items", ConsistOf(HaveField("Key", "tls.crt"), HaveField("Key", "tls.key"))))))

	// With config/network-policy, its policy opens the events port to
	// anyone when (and only when) the event receiver is on.
	events := networkingv1.NetworkPolicyPort{Port: new(intstr.FromInt32(9444)), Protocol: new(corev1.ProtocolTCP)}
	policy := func(b bundle) *networkingv1.NetworkPolicy {
		np := &networkingv1.NetworkPolicy{}
		b.only(t, "NetworkPolicy", np)
		return np
	}
	g.Expect(policy(buildInstaller(t, installerImage, networkPolicyOptIn)).Spec.Ingress).
		NotTo(ContainElement(HaveField("Ports", ContainElement(events))))
	g.Expect(policy(buildInstaller(t, installerImage, networkPolicyOptIn, eventReceiverOptIn)).Spec.Ingress).
		To(ContainElement(networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{events}}))
}
