// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.bench;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.DemoServerVerticle;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.framing.DbxFramer;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.Sockets;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Not a test: EchoString calls per second through the proxy, side by side with the same calls
 * sent straight to the demo server over TCP (the baseline), in one process on one machine.
 *
 * <pre>mvn -B -q test-compile && java -cp "target/test-classes:target/dstunnel.jar" \
 *   io.dstunnel.bench.EchoBench [sessions] [seconds]</pre>
 */
public final class EchoBench {

  private EchoBench() {
  }

  public static void main(String[] args) throws Exception {
    int sessions = args.length > 0 ? Integer.parseInt(args[0]) : 16;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    Vertx vertx = Vertx.vertx();
    DemoServerVerticle server = new DemoServerVerticle("127.0.0.1", 0, "B");
    vertx.deployVerticle(server).await();
    Dstunnel proxy = Proxies.config().backend("b", server.actualPort(), 0).start(vertx);
    Dstunnel quiet = Proxies.config().backend("b", server.actualPort(), 0).set("admin", "metrics", false)
        .set("admin", "enabled", false).start(vertx);
    for (int round = 0; round < 3; round++) {
      double direct = run(vertx, sessions, seconds, () -> direct(vertx, server.actualPort()));
      double tunnel = run(vertx, sessions, seconds, () -> tunnel(vertx, proxy.port()));
      double noMetrics = run(vertx, sessions, seconds, () -> tunnel(vertx, quiet.port()));
      System.out.printf("round %d: %d sessions: direct TCP %.0f calls/s; through dstunnel %.0f calls/s"
          + " (%.0f tunnel requests/s, %.2f of direct); metrics off %.0f calls/s (metrics on/off %.3f)%n",
          round + 1, sessions, direct, tunnel, 2 * tunnel, tunnel / direct, noMetrics, tunnel / noMetrics);
    }
    vertx.close().await();
  }

  /** One way of making calls: each call completes the future with nothing. */
  private interface Caller {
    Future<Void> call(int i);
  }

  private interface CallerFactory {
    Caller create();
  }

  private static double run(Vertx vertx, int sessions, int seconds, CallerFactory factory) throws Exception {
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    AtomicLong calls = new AtomicLong();
    List<Future<Void>> loops = new ArrayList<>();
    long start = System.nanoTime();
    for (int s = 0; s < sessions; s++) {
      Caller caller = factory.create();
      Promise<Void> done = Promise.promise();
      loop(caller, 0, end, calls, done);
      loops.add(done.future());
    }
    Future.all(loops).await();
    return calls.get() / ((System.nanoTime() - start) / 1e9);
  }

  private static void loop(Caller caller, int i, long end, AtomicLong calls, Promise<Void> done) {
    if (System.nanoTime() > end) {
      done.complete();
      return;
    }
    caller.call(i).onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
        return;
      }
      calls.incrementAndGet();
      loop(caller, i + 1, end, calls, done);
    });
  }

  private static Caller tunnel(Vertx vertx, int port) {
    TunnelClient c = new TunnelClient(vertx, "127.0.0.1", port, "admin", "admin", 32768);
    c.handshake().await();
    int h = c.prepare("EchoString").await();
    return i -> c.execute(h, "call " + i).mapEmpty();
  }

  private static Caller direct(Vertx vertx, int port) {
    NetSocket socket = Sockets.connect(vertx, port).await();
    DbxFramer framer = new DbxFramer();
    List<Promise<Void>> waiting = new ArrayList<>(1);
    socket.handler(chunk -> framer.feed(chunk, end -> waiting.remove(0).complete()));
    java.util.function.Function<Buffer, Future<Void>> send = msg -> {
      Promise<Void> p = Promise.promise();
      waiting.add(p);
      socket.write(msg);
      return p.future();
    };
    Future<Void> ready = Future.succeededFuture();
    ready = ready.compose(v -> send.apply(Buffer.buffer(new byte[] {5, 5, 5, 5, 5})))
        .compose(v -> send.apply(Buffer.buffer("{\"method\":\"connect\",\"params\":[{}]}")))
        .compose(v -> send.apply(Buffer.buffer(
            "{\"method\":\"prepare\",\"params\":[-1,false,\"DSServerMethod\",\"TServerMethods1.EchoString\"]}")));
    ready.await();
    return i -> send.apply(TunnelClient.executeRequest(1, "call " + i));
  }
}
