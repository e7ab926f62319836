// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.bench;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.DemoServerVerticle;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.session.SessionSnapshots;
import io.dstunnel.support.Proxies;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Not a test: failover time, from the primary's death to the next answer, over many sessions that
 * each have a request in flight. (1) The primary resets every connection; (2) the primary hangs and
 * the proxy's answer timeout fires (measured from the request).
 *
 * <pre>mvn -B -q package -DskipTests && mvn -B -q test-compile && java -cp "target/test-classes:target/dstunnel.jar" \
 *   io.dstunnel.bench.FailoverBench [sessions=200] [answerTimeoutMs=300] [rounds=2]</pre>
 * A CPU profile of the storm: add async-profiler's jar to the class path and
 * {@code -Dbench.profile=<its libasyncProfiler.so> -Dbench.profile.out=<file>}.
 */
public final class FailoverBench {

  /** Relays to a demo server; can stop passing answers on, and reset every connection. */
  private static final class Primary {
    private final Set<NetSocket> clients = ConcurrentHashMap.newKeySet();
    private final Set<NetSocket> held = ConcurrentHashMap.newKeySet();
    private final int expected;
    private final CompletableFuture<Void> allHeld = new CompletableFuture<>();
    private volatile boolean holding;
    private NetServer server;

    Primary(Vertx vertx, int demoPort, int expected) {
      this.expected = expected;
      server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0).setSoLinger(0));
      NetClient upstreams = vertx.createNetClient();
      server.connectHandler(client -> {
        clients.add(client);
        // Bytes that come before the demo server's connection is up wait here, on this socket's
        // context (the connect's callbacks are brought back to it).
        Context here = vertx.getOrCreateContext();
        Buffer early = Buffer.buffer();
        NetSocket[] up = {null};
        client.handler(bytes -> {
          if (up[0] == null) {
            early.appendBuffer(bytes);
          } else {
            up[0].write(bytes);
          }
        });
        upstreams.connect(demoPort, "127.0.0.1").onComplete(ar -> here.runOnContext(v -> {
          if (ar.failed()) {
            System.out.println("relay: cannot reach the demo server: " + ar.cause());
            client.close();
            return;
          }
          up[0] = ar.result();
          up[0].handler(answer -> here.runOnContext(w -> {
            if (!holding) {
              client.write(answer);
            } else if (held.add(client) && held.size() == expected) {
              allHeld.complete(null);
            }
          }));
          client.closeHandler(w -> up[0].close());
          if (early.length() > 0) {
            up[0].write(early);
          }
        }));
      });
      server.listen().await();
    }

    int port() {
      return server.actualPort();
    }

    void hold() {
      holding = true;
    }

    /** Completes once every connection's answer is held back: every request is surely in flight. */
    CompletableFuture<Void> allHeld() {
      return allHeld;
    }

    void reset() {
      clients.forEach(NetSocket::close); // SO_LINGER 0: a reset
    }
  }

  private FailoverBench() {
  }

  public static void main(String[] args) throws Exception {
    int sessions = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    long answerTimeout = args.length > 1 ? Long.parseLong(args[1]) : 300;
    Vertx vertx = Vertx.vertx();
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    for (int round = 1; round <= rounds; round++) {
      System.out.printf("round %d, %d sessions: reset: %s%n", round, sessions, run(vertx, sessions, 0, false));
      System.out.printf("round %d, %d sessions: hang (answerTimeoutMs %d): %s%n", round, sessions, answerTimeout,
          run(vertx, sessions, answerTimeout, true));
    }
    vertx.close().await();
  }

  /** One measurement, on servers of its own: nothing of an earlier run (held answers, sessions) is left. */
  private static String run(Vertx vertx, int sessions, long answerTimeout, boolean hang) throws Exception {
    DemoServerVerticle a = new DemoServerVerticle("127.0.0.1", 0, "A");
    DemoServerVerticle b = new DemoServerVerticle("127.0.0.1", 0, "B");
    String aId = vertx.deployVerticle(a).await();
    String bId = vertx.deployVerticle(b).await();
    try {
      return measure(vertx, a, b, sessions, answerTimeout, hang);
    } finally {
      vertx.undeploy(aId).await();
      vertx.undeploy(bId).await();
    }
  }

  /**
   * With {@code -Dbench.profile=<libasyncProfiler.so>} (and async-profiler's jar on the class
   * path), the storm of each reset run is profiled, from the reset to the last answer; the last
   * run's stacks stay in {@code bench.profile.out}.
   */
  private static void profiler(String command) throws Exception {
    String lib = System.getProperty("bench.profile");
    if (lib != null) {
      Class<?> type = Class.forName("one.profiler.AsyncProfiler");
      Object profiler = type.getMethod("getInstance", String.class).invoke(null, lib);
      type.getMethod("execute", String.class).invoke(profiler, command);
    }
  }

  /** Waits (a minute at most) for every future; says how many are missing instead of hanging. */
  private static void settled(List<Future<Void>> futures, String what) throws Exception {
    try {
      Future.all(futures).toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
    } catch (TimeoutException | ExecutionException e) {
      long pending = futures.stream().filter(f -> !f.isComplete()).count();
      Throwable first = futures.stream().filter(Future::failed).map(Future::cause).findFirst().orElse(null);
      throw new IllegalStateException(what + ": " + pending + " of " + futures.size() + " not done, first failure: "
          + first, e);
    }
  }

  private static String measure(Vertx vertx, DemoServerVerticle a, DemoServerVerticle b, int sessions,
                                long answerTimeout, boolean hang) throws Exception {
    Primary primary = new Primary(vertx, a.actualPort(), sessions);
    Dstunnel proxy = Proxies.config().noAuth().backend("primary", primary.port(), 0).backend("standby", b.actualPort(), 1)
        .set("pool", "answerTimeoutMs", answerTimeout).set("health", "intervalMs", 3_600_000).start(vertx);
    List<TunnelClient> clients = new ArrayList<>();
    List<Future<Void>> ready = new ArrayList<>();
    for (int i = 0; i < sessions; i++) {
      TunnelClient c = new TunnelClient(vertx, "127.0.0.1", proxy.port(), null, null, 32768);
      clients.add(c);
      ready.add(c.handshake().compose(v -> c.prepare("EchoString")).mapEmpty());
    }
    try {
      settled(ready, "opening the sessions");
    } catch (IllegalStateException e) {
      // Where the unfinished sessions stand, as the proxy sees them.
      Set<String> stuck = new HashSet<>();
      for (int i = 0; i < sessions; i++) {
        if (!ready.get(i).isComplete()) {
          stuck.add(clients.get(i).sessionId());
        }
      }
      System.out.println("stuck client sessions: " + stuck);
      SessionSnapshots.gather(vertx, 2).await().stream()
          .filter(j -> stuck.contains(j.getString("id"))).forEach(j -> System.out.println("  " + j.encode()));
      throw e;
    }
    primary.hold();
    long[] answered = new long[sessions];
    long[] written = new long[sessions];
    List<Future<Void>> answers = new ArrayList<>();
    for (int i = 0; i < sessions; i++) {
      int k = i;
      TunnelClient c = clients.get(i);
      Buffer call = TunnelClient.executeRequest(1, "in flight " + i);
      written[k] = System.nanoTime();
      answers.add(c.write(call).compose(v -> c.readMessage()).map(m -> {
        answered[k] = System.nanoTime();
        if (!new JsonObject(m).getJsonArray("result").getString(0).equals("in flight " + k + " (Server B)")) {
          throw new IllegalStateException("wrong answer " + m);
        }
        return null;
      }));
    }
    long dead;
    if (hang) {
      dead = -1;
    } else {
      primary.allHeld().get(1, TimeUnit.MINUTES);
      profiler("start,event=cpu,interval=200us");
      dead = System.nanoTime();
      primary.reset();
    }
    settled(answers, "the answers after the failover");
    if (!hang) {
      profiler("stop,collapsed,file=" + System.getProperty("bench.profile.out", "target/failover.collapsed"));
    }
    double[] ms = new double[sessions];
    for (int i = 0; i < sessions; i++) {
      ms[i] = (answered[i] - (hang ? written[i] : dead)) / 1e6;
    }
    Arrays.sort(ms);
    proxy.stop().await();
    return String.format("failover time p50 %.1f ms, p99 %.1f ms, max %.1f ms", ms[sessions / 2],
        ms[Math.min(sessions - 1, (int) Math.ceil(sessions * 0.99) - 1)], ms[sessions - 1]);
  }
}
