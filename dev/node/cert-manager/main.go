// Command cert-manager-controller runs the part of cert-manager's controller that the real
// node needs: self-signed and CA issuers (Issuer and ClusterIssuer), Certificates and
// their CertificateRequests, and the ingress-shim that turns a
// `cert-manager.io/cluster-issuer` annotation on an Ingress into a Certificate.
//
// Why our own main: the Go module proxy serves cert-manager's root module, whose
// pkg/controller packages hold every controller, but not cmd/controller (a nested module
// the proxy cannot resolve), so upstream's binary cannot be built from it. Each controller
// package registers its constructor in init(); this program imports only the ones named in
// `controllers` below, which keeps ACME (and with it the DNS providers' cloud SDKs), Vault
// and Venafi out of the build. No leader election: one replica. No webhook and no
// cainjector (dev/node/README.md says why that is safe here).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/klog/v2"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"

	// Controllers: each registers itself with controllerpkg in init().
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/ingresses"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	// Issuer types the (Cluster)Issuer controllers can check: each registers in init().
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// controllers are started in this order; a name no imported package registered is an error
// at start-up, so a rename in a cert-manager bump cannot silently drop a controller.
var controllers = []string{
	"issuers",
	"clusterissuers",
	"certificaterequests-approver",
	"certificaterequests-issuer-ca",
	"certificaterequests-issuer-selfsigned",
	"certificates-trigger",
	"certificates-key-manager",
	"certificates-request-manager",
	"certificates-issuing",
	"certificates-readiness",
	"certificates-revision-manager",
	"ingress-shim",
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file; empty: the pod's ServiceAccount (in-cluster)")
	clusterResourceNamespace := flag.String("cluster-resource-namespace", "cert-manager",
		"namespace of the Secrets that ClusterIssuers refer to (a CA issuer's key pair)")
	healthAddress := flag.String("health-address", ":9403", "address of /livez and /readyz")
	workers := flag.Int("workers", 2, "workers per controller")
	version := flag.Bool("version", false, "print the cert-manager version this is built from, and exit")
	klog.InitFlags(nil) // -v: cert-manager logs its progress at level 2
	flag.Parse()
	if *version {
		fmt.Println(util.AppVersion) // stamped by dev/cluster/build.sh
		return
	}
	logf.InitLogs()
	defer logf.FlushLogs()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx = logf.NewContext(ctx, logf.Log, "cert-manager-controller")
	if err := run(ctx, *kubeconfig, *clusterResourceNamespace, *healthAddress, *workers); err != nil {
		logf.Log.Error(err, "exiting")
		logf.FlushLogs()
		os.Exit(1)
	}
}

func run(ctx context.Context, kubeconfig, clusterResourceNamespace, healthAddress string, workers int) error {
	log := logf.FromContext(ctx)
	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig: kubeconfig,
		// Upstream's defaults (internal/apis/config/controller/v1alpha1/defaults.go).
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		IssuerOptions:      controllerpkg.IssuerOptions{ClusterResourceNamespace: clusterResourceNamespace},
		CertificateOptions: controllerpkg.CertificateOptions{
			CopiedAnnotationPrefixes:                 []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"},
			CertificateRequestMinimumBackoffDuration: time.Hour,
			CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
		},
	})
	if err != nil {
		return fmt.Errorf("building the controller context: %w", err)
	}

	// Construct every controller first: constructing one registers the informers it needs
	// with the shared factories, which must all be known before the factories start.
	known := controllerpkg.Known()
	loops := make(map[string]controllerpkg.Interface, len(controllers))
	for _, name := range controllers {
		construct, ok := known[name]
		if !ok {
			return fmt.Errorf("controller %q is not registered: its package is not imported or was renamed", name)
		}
		loop, err := construct(factory)
		if err != nil {
			return fmt.Errorf("constructing controller %q: %w", name, err)
		}
		loops[name] = loop
	}

	// Every controller gets the same shared factories; take them from a built context.
	shared, err := factory.Build()
	if err != nil {
		return fmt.Errorf("building the shared context: %w", err)
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())
	shared.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())
	shared.GWShared.Start(ctx.Done())

	var ready atomic.Bool
	server := healthServer(healthAddress, &ready)
	go func() {
		if err := server.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(err, "health server stopped", "address", healthAddress)
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	failed := make(chan error, len(loops))
	for name, loop := range loops {
		wg.Go(func() {
			log.V(logf.InfoLevel).Info("starting controller", "controller", name)
			if err := loop.Run(workers, ctx); err != nil {
				failed <- fmt.Errorf("controller %q: %w", name, err)
			}
		})
	}

	// Ready once the caches every controller reads from are filled: before that a
	// controller would act on an empty view of the cluster.
	go func() {
		for _, synced := range []map[string]bool{
			waitForSync(shared.KubeSharedInformerFactory.WaitForCacheSync(ctx.Done())),
			waitForSync(shared.SharedInformerFactory.WaitForCacheSync(ctx.Done())),
		} {
			for informer, ok := range synced {
				if !ok {
					log.Info("informer cache did not sync", "informer", informer)
					return
				}
			}
		}
		ready.Store(true)
		log.V(logf.InfoLevel).Info("caches synced, controllers running", "controllers", len(loops))
	}()

	var result error
	select {
	case <-ctx.Done():
	case result = <-failed:
	}
	cancel()
	wg.Wait()
	shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = server.Shutdown(shutdown)
	return result
}

// waitForSync turns the informer factories' differently typed sync maps into one type.
func waitForSync[K comparable](synced map[K]bool) map[string]bool {
	out := make(map[string]bool, len(synced))
	for k, ok := range synced {
		out[fmt.Sprint(k)] = ok
	}
	return out
}

// healthServer answers /livez while the process serves and /readyz once ready is set.
func healthServer(address string, ready *atomic.Bool) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/livez", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "informer caches not synced yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return &http.Server{Addr: address, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
}
