// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.config.ProxyConfig;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.session.Addresses;
import io.dstunnel.session.SessionLanes;
import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Proxies;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Lanes: with the event loops the launcher sizes, every HTTP instance shares its thread with a
 * session verticle and opens its sessions there; sessions work whichever connection they use.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LanesTest {

  @Test
  void everyHttpInstanceSharesItsEventLoopWithASessionVerticle() {
    Proxies config = Proxies.config().set("http", "instances", 3).set("session", "instances", 3)
        .backend("a", 1, 0);  // the real port once the server is up
    int loops = Launcher.eventLoops(ProxyConfig.fromJson(config.json()));
    assertThat(loops).isEqualTo(3);
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops));
    try {
      Backends.Server server = Backends.start(vertx, "A");
      config.json().getJsonArray("backends").getJsonObject(0).put("port", server.port());
      Dstunnel proxy = config.start(vertx);
      assertThat(proxy.lanesShared()).isEqualTo(3);
      List<Future<Object>> answers = new ArrayList<>();
      for (int i = 0; i < 9; i++) {
        TunnelClient c = Proxies.client(vertx, proxy);
        String word = "lane" + i;
        answers.add(c.handshake().compose(v -> c.prepare("EchoString")).compose(h -> c.execute(h, word)));
      }
      for (int i = 0; i < answers.size(); i++) {
        assertThat(String.valueOf(answers.get(i).await())).startsWith("lane" + i);
      }
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void aSessionOnTheRequestsOwnEventLoopIsCalledWithoutTheEventBus() {
    Proxies config = Proxies.config().set("http", "instances", 1).set("session", "instances", 1).backend("a", 1, 0);
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Launcher.eventLoops(ProxyConfig.fromJson(config.json()))));
    try {
      Backends.Server server = Backends.start(vertx, "A");
      config.json().getJsonArray("backends").getJsonObject(0).put("port", server.port());
      Dstunnel proxy = config.start(vertx);
      assertThat(proxy.lanesShared()).isEqualTo(1);
      AtomicInteger toSessions = new AtomicInteger();
      String anySession = Addresses.session("");
      vertx.eventBus().addOutboundInterceptor(dc -> {
        if (dc.message().address().startsWith(anySession)) {
          toSessions.incrementAndGet();
        }
        dc.next();
      });
      for (int i = 0; i < 3; i++) {
        TunnelClient c = Proxies.client(vertx, proxy);
        String word = "direct" + i;
        Object answer = c.handshake().compose(v -> c.prepare("EchoString")).compose(h -> c.execute(h, word))
            .compose(a -> c.close().map(a)).await();
        assertThat(String.valueOf(answer)).startsWith(word);
      }
      assertThat(toSessions).as("requests sent to sessions over the event bus").hasValue(0);
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void aRequestTakenOnTheLaneWaitsBehindOneOfTheSameSessionQueuedBeforeIt() {
    Proxies config = Proxies.config().set("http", "instances", 1).set("session", "instances", 1).backend("a", 1, 0);
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    try {
      Backends.Server server = Backends.start(vertx, "A");
      config.json().getJsonArray("backends").getJsonObject(0).put("port", server.port());
      Dstunnel proxy = config.start(vertx);
      TunnelClient c = Proxies.client(vertx, proxy);
      int h = c.handshake().compose(v -> c.prepare("EchoString")).await();
      String sid = c.sessionId();
      // On the one event loop: a write sent over the bus (as from another event loop or node),
      // then one taken on the lane. They reach the backend in that order.
      Context loop = vertx.getOrCreateContext();
      Future<?> both = Future.future(p -> loop.runOnContext(v -> {
        Future<?> first = vertx.eventBus().request(Addresses.session(sid),
            TunnelCommand.write(sid, "admin", TunnelClient.executeRequest(h, "one")), Addresses.LOCAL);
        Future<TunnelReply> second = proxy.lanes().call(
            TunnelCommand.write(sid, "admin", TunnelClient.executeRequest(h, "two")), 30_000);
        assertThat(second).as("taken on the lane").isNotNull();
        Future.all(first, second).onComplete(ar -> p.handle(ar.mapEmpty()));
      }));
      both.await();
      assertThat(c.readMessage().await().toString()).contains("one");
      assertThat(c.readMessage().await().toString()).contains("two");
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void aThreadWithoutASessionVerticleOpensRoundRobin() throws Exception {
    SessionLanes lanes = new SessionLanes();
    String[] seen = new String[1];
    Thread t = new Thread(() -> seen[0] = lanes.openAddress());
    t.start();
    t.join();
    assertThat(seen[0]).isEqualTo(Addresses.OPEN);
  }
}
