// Command pstest runs Google's in-memory Pub/Sub test server (cloud.google.com/go/pubsub/v2/pstest)
// for the integration tests. It listens on -addr (127.0.0.1:8085) until SIGINT or SIGTERM.
//
//	pstest -addr 127.0.0.1:8085          serve
//	pstest -probe 127.0.0.1:8085         exit 0 when a Pub/Sub server answers ListTopics there
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8085", "host:port to listen on")
	probe := flag.String("probe", "", "host:port of a server to probe instead of serving")
	project := flag.String("project", "test-project", "project used by -probe")
	flag.Parse()

	if *probe != "" {
		if err := probeServer(*probe, *project); err != nil {
			fmt.Fprintf(os.Stderr, "pstest: probe %s: %v\n", *probe, err)
			os.Exit(1)
		}
		return
	}

	srv := pstest.NewServerWithAddress(*addr)
	log.Printf("pstest: listening on %s", srv.Addr)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	log.Printf("pstest: %v received, stopping", s)
	_ = srv.Close()
}

func probeServer(addr, project string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = pb.NewPublisherClient(conn).ListTopics(ctx, &pb.ListTopicsRequest{Project: "projects/" + project})
	return err
}
