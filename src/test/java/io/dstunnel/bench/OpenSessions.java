// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.bench;

import io.dstunnel.demo.TunnelClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.PoolOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Not a test: opens N tunnel sessions (filter query, DBX connect) and keeps them open until its
 * standard input closes, for load-tests/heap.sh.
 *
 * <pre>java -cp "target/test-classes:target/dstunnel.jar" io.dstunnel.bench.OpenSessions PORT N</pre>
 */
public final class OpenSessions {

  private OpenSessions() {
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int n = Integer.parseInt(args[1]);
    int parallel = 64;
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    AtomicInteger next = new AtomicInteger();
    HttpClient http = vertx.createHttpClient(new PoolOptions().setHttp1MaxSize(parallel));
    List<Future<Void>> lanes = new ArrayList<>();
    long started = System.nanoTime();
    for (int p = 0; p < parallel; p++) {
      Promise<Void> lane = Promise.promise();
      openNext(vertx, http, port, n, next, lane);
      lanes.add(lane.future());
    }
    Future.all(lanes).await();
    System.out.printf("opened %d sessions in %.1f s%n", n, (System.nanoTime() - started) / 1e9);
    System.out.flush();
    while (System.in.read() >= 0) {
      // hold the sessions until the driver closes our stdin
    }
    vertx.close().await();
  }

  private static void openNext(Vertx vertx, HttpClient http, int port, int n, AtomicInteger next,
                               Promise<Void> lane) {
    if (next.getAndIncrement() >= n) {
      lane.complete();
      return;
    }
    TunnelClient c = new TunnelClient(vertx, http, "127.0.0.1", port, "admin", "admin", 32768);
    c.handshake().onComplete(ar -> {
      if (ar.failed()) {
        lane.fail(ar.cause());
      } else {
        openNext(vertx, http, port, n, next, lane);
      }
    });
  }
}
