#!/usr/bin/env bash
# Apache Kafka for tests: the broker jars from Maven Central (via mvn, cached in ~/.m2 and in
# tests/peers/.run/kafka-jars/), one KRaft node acting as broker and controller.
# Clients: PLAINTEXT on 127.0.0.1:9092; controller on 127.0.0.1:9093.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
PEER_NAME=kafka
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
NAME=$(peer_name kafka)

# 3.9.x: the last line with the old protocol versions kafkajs 2.x speaks (4.0 removed them).
KAFKA_VERSION=${KAFKA_VERSION:-3.9.1}
SCALA=2.13
HOST=127.0.0.1
PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=$((PORT + 1))
DIR="$RUN_DIR/$NAME"
JARS="$RUN_DIR/kafka-jars" # shared by instances
LIB="$JARS/lib-$KAFKA_VERSION"
DATA="$DIR/data"

env_out() { write_env "$NAME" "KAFKA_BROKERS=$HOST:$PORT"; }

# A Kafka ApiVersions request (v0, correlation id 7) answered with the same correlation id:
# the broker's network layer is up. Readiness of the broker itself comes from its log.
answers() {
  timeout 3 bash -c "exec 3<>/dev/tcp/$HOST/$PORT \
    && printf '\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x07\xff\xff' >&3 \
    && head -c 8 <&3 | od -An -tx1 | tr -d ' \n' | grep -q '^........00000007$'" 2>/dev/null
}

fetch_jars() {
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  need_cmd java "install a Java 17 runtime (apt-get install openjdk-17-jre-headless)"
  if [ -f "$LIB/.complete" ]; then return 0; fi
  command -v mvn >/dev/null 2>&1 || apt_install maven
  need_cmd mvn "install Maven (apt-get install maven)"
  mkdir -p "$JARS"
  cat >"$JARS/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>event-router.test</groupId>
  <artifactId>kafka-test-server</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_$SCALA</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- the logging binding the Kafka distribution ships (slf4j 1.7 + reload4j) -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
POM
  log "fetching kafka_$SCALA $KAFKA_VERSION and its runtime dependencies with Maven"
  rm -rf "$LIB"
  if ! mvn -B -q -f "$JARS/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$LIB" >"$JARS/mvn.log" 2>&1; then
    log_tail "$JARS/mvn.log"
    die "mvn could not fetch the Kafka jars"
  fi
  touch "$LIB/.complete"
}

write_config() {
  mkdir -p "$DATA"
  cat >"$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
log.retention.hours=1
log.segment.bytes=16777216
PROPS
  cat >"$DIR/log4j.properties" <<'L4J'
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
L4J
}

java_opts() {
  echo "-Xms256m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dkafka.logs.dir=$DIR/log -Dlog4j.configuration=file:$DIR/log4j.properties"
}

do_start() {
  if answers; then
    log "already answering on $HOST:$PORT"
    env_out
    return 0
  fi
  fetch_jars
  write_config
  mkdir -p "$DIR/log"
  # shellcheck disable=SC2046
  if [ ! -f "$DATA/meta.properties" ]; then
    local cluster_id
    cluster_id=$(java -cp "$LIB/*" $(java_opts) kafka.tools.StorageTool random-uuid 2>>"$DIR/format.log" | tail -n 1)
    [ -n "$cluster_id" ] || {
      log_tail "$DIR/format.log"
      die "StorageTool random-uuid failed"
    }
    log "formatting KRaft storage (cluster $cluster_id)"
    java -cp "$LIB/*" $(java_opts) kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$DIR/server.properties" >>"$DIR/format.log" 2>&1 || {
      log_tail "$DIR/format.log"
      die "StorageTool format failed"
    }
  fi
  : >"$DIR/log/server.log"
  # shellcheck disable=SC2046
  spawn "$DIR/log/stdout.log" java -cp "$LIB/*" $(java_opts) kafka.Kafka "$DIR/server.properties" \
    >"$DIR/pid"
  local pid
  pid=$(cat "$DIR/pid")
  started() { grep -q "Kafka Server started" "$DIR/log/server.log" && answers; }
  if ! wait_up 120 "kafka on $HOST:$PORT" "$pid" started; then
    log_tail "$DIR/log/stdout.log" 20
    log_tail "$DIR/log/server.log"
    die "kafka did not start"
  fi
  log "up on $HOST:$PORT (pid $pid)"
  env_out
}

do_stop() { stop_recorded "$NAME" 30; }

server_main "$@"
