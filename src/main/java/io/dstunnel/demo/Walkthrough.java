// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.demo;

import io.dstunnel.Dstunnel;
import io.dstunnel.config.ProxyConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The seed's walk-through in one process: two demo servers, the proxy in front of them, a client
 * calling EchoString, the primary killed, the same call answered by the standby, while the
 * proxy's event log shows open, write, read, error, failover and close as they happen. A REST
 * client (as DataSnap's JavaScript and PHP clients are) goes along: its session, opened on the
 * primary, is answered by the standby under the same session id.
 */
public final class Walkthrough {

  private static final Logger LOG = LoggerFactory.getLogger("dstunnel.demo");

  private final Vertx vertx;

  public Walkthrough(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Runs the seven steps; the future fails if any answer is not the one expected. */
  public Future<Void> run() {
    Deployed[] servers = new Deployed[2];
    return deployServer(211).compose(primary -> {
      servers[0] = primary;
      LOG.info("1. demo server (primary) listening on {}", primary.server().actualPort());
      return deployServer(213);
    }).compose(standby -> {
      servers[1] = standby;
      LOG.info("2. demo server (standby) listening on {}", standby.server().actualPort());
      return startProxy(servers[0], standby);
    }).compose(proxy -> {
      DemoServerVerticle primary = servers[0].server();
      DemoServerVerticle standby = servers[1].server();
      LOG.info("3. dstunnel listening on {}: primary {}, standby {}", proxy.port(), primary.actualPort(),
          standby.actualPort());
      TunnelClient client = new TunnelClient(vertx, "127.0.0.1", proxy.port(), "admin", "admin",
          32768);
      RestClient rest = new RestClient(vertx, proxy.port(), "admin", "admin");
      int[] handle = new int[1];
      return client.handshake()
          .compose(v -> client.prepare("EchoString"))
          .compose(h -> {
            handle[0] = h;
            LOG.info("4. the client calls EchoString(\"Delphi 2010\") through the proxy");
            return client.execute(h, "Delphi 2010");
          })
          .compose(answer -> {
            LOG.info("   answer: \"{}\"", answer);
            expect(answer, "Delphi 2010 (Server " + primary.name() + ")");
            LOG.info("   a REST client (as DataSnap's JavaScript and PHP ones) calls GET /datasnap/rest/"
                + "TServerMethods1/EchoString/REST");
            return rest.echo("REST");
          })
          .compose(answer -> {
            LOG.info("   answer: \"{}\", REST session {}", answer, rest.session());
            expect(answer, "REST (Server " + primary.name() + ")");
            LOG.info("5. the primary server dies");
            return vertx.undeploy(servers[0].restId()).compose(v -> vertx.undeploy(servers[0].id()));
          })
          .compose(v -> {
            LOG.info("6. the client calls EchoString(\"Delphi 2010\") again, in the same session");
            return client.execute(handle[0], "Delphi 2010");
          })
          .compose(answer -> {
            LOG.info("   answer: \"{}\"", answer);
            expect(answer, "Delphi 2010 (Server " + standby.name() + ")");
            String before = rest.session();
            LOG.info("   the REST client calls EchoString(\"REST\") again, in its session {}", before);
            return rest.echo("REST").map(a -> {
              LOG.info("   answer: \"{}\", REST session {} (the same id; the standby logged it in again)", a,
                  rest.session());
              expect(a, "REST (Server " + standby.name() + ")");
              expect(rest.session(), before);
              return a;
            });
          })
          .compose(answer -> {
            LOG.info("7. the session went on on the standby: no error, every answer exactly once");
            return client.close();
          })
          .compose(v -> proxy.stop());
    });
  }

  private record Deployed(DemoServerVerticle server, String id, DemoRestVerticle rest, String restId) { }

  /** A demo server on {@code port} (or any free one) with its REST side on any free port. */
  private Future<Deployed> deployServer(int port) {
    DemoServerVerticle server = new DemoServerVerticle("127.0.0.1", port, null);
    return vertx.deployVerticle(server).map(id -> new Deployed(server, id, null, null)).recover(err -> {
      LOG.info("port {} is not available ({}); using a free port", port, err.getMessage());
      DemoServerVerticle any = new DemoServerVerticle("127.0.0.1", 0, null);
      return vertx.deployVerticle(any).map(id -> new Deployed(any, id, null, null));
    }).compose(d -> {
      DemoRestVerticle rest = new DemoRestVerticle("127.0.0.1", 0, d.server().name());
      return vertx.deployVerticle(rest).map(restId -> new Deployed(d.server(), d.id(), rest, restId));
    });
  }

  private Future<Dstunnel> startProxy(Deployed primary, Deployed standby) {
    int primaryPort = primary.server().actualPort();
    int standbyPort = standby.server().actualPort();
    JsonObject json = new JsonObject()
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", 8080))
        .put("admin", new JsonObject().put("enabled", false))
        .put("backends", new JsonArray()
            .add(new JsonObject().put("name", "server-" + primaryPort).put("port", primaryPort).put("priority", 0)
                .put("httpPort", primary.rest().actualPort()))
            .add(new JsonObject().put("name", "server-" + standbyPort).put("port", standbyPort).put("priority", 1)
                .put("httpPort", standby.rest().actualPort())))
        .put("auth", new JsonObject().put("users", new JsonArray()
            .add(new JsonObject().put("name", "admin").put("password", "admin"))));
    return Dstunnel.start(vertx, ProxyConfig.fromJson(json)).recover(err -> {
      LOG.info("port 8080 is not available ({}); using a free port", err.getMessage());
      json.getJsonObject("http").put("port", 0);
      return Dstunnel.start(vertx, ProxyConfig.fromJson(json));
    });
  }

  private static void expect(Object answer, String wanted) {
    if (!wanted.equals(answer)) {
      throw new IllegalStateException("expected \"" + wanted + "\" but got \"" + answer + "\"");
    }
  }
}
