package io.dstunnel.demo;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The demo server's REST side (rest.md, last section): the same server methods as the TCP side
 * under {@code /datasnap/rest/TServerMethods1/…}, DataSnap's sessions (short digit-group ids,
 * {@code Pragma: dssession=…}, {@code CloseSession}, 403 {@code SessionExpired}) and the four
 * channel calls of {@code DSAdmin}. Checks no credentials.
 */
public final class DemoRestVerticle extends VerticleBase {

  private static final Pattern DSSESSION = Pattern.compile("dssession=([^,\\s]+)");
  private static final long EXPIRES_MS = 1_200_000;
  /** How long a ConsumeClientChannel waits for a message before it answers {@code [null]}. */
  private static final long CONSUME_WAIT_MS = 30_000;

  private final String host;
  private final int port;
  /** How often each method ({@code Class.Method}) was called: what a test asks of a server. */
  private final java.util.Map<String, java.util.concurrent.atomic.AtomicInteger> calls =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final String name;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, long[]> sessions = new HashMap<>();
  private final Map<String, String> channelOf = new HashMap<>();
  private final Map<String, ArrayDeque<Object>> queues = new HashMap<>();
  private final Map<String, List<Promise<Object>>> waiting = new HashMap<>();
  private HttpServer server;

  public DemoRestVerticle(String host, int port, String name) {
    this.host = host;
    this.port = port;
    this.name = name;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    // The application's own files, as a DataSnap REST application serves its JavaScript framework.
    router.get("/js/:file").handler(ctx -> ctx.response().putHeader("Content-Type", "application/javascript")
        .end("// " + ctx.pathParam("file") + " (Server " + name + ")\n"));
    // Every method (the framework POSTs calls whose arguments may be objects, in the body).
    router.route("/datasnap/rest/*").handler(BodyHandler.create().setBodyLimit(1 << 20)).handler(this::call);
    server = vertx.createHttpServer();
    return server.requestHandler(router).listen(port, host);
  }

  @Override
  public Future<?> stop() {
    return server.close();
  }

  public int actualPort() {
    return server.actualPort();
  }

  private void call(RoutingContext ctx) {
    String sid = ctx.request().getParam("SESSIONID");
    if (sid == null) {
      sid = ctx.request().getParam("sid");
    }
    if (sid == null && ctx.request().getHeader("Pragma") != null) {
      Matcher m = DSSESSION.matcher(ctx.request().getHeader("Pragma"));
      sid = m.find() ? m.group(1) : null;
    }
    if (sid != null && !sessions.containsKey(sid)) {
      reply(ctx, 403, new JsonObject().put("SessionExpired", "Session has expired"), null);
      return;
    }
    if (sid == null) {
      sid = random.nextInt(1_000_000) + "." + random.nextInt(1_000_000) + "." + random.nextInt(1_000_000);
      sessions.put(sid, new long[1]);
    }
    List<String> parts = new ArrayList<>();
    for (String p : ctx.request().path().substring("/datasnap/rest/".length()).split("/")) {
      if (!p.isEmpty()) {
        parts.add(URLDecoder.decode(p.replace("+", "%2B"), StandardCharsets.UTF_8));
      }
    }
    if (parts.equals(List.of("CloseSession"))) {
      sessions.remove(sid);
      reply(ctx, 200, result(true), null);
      return;
    }
    if (parts.size() < 2) {
      reply(ctx, 404, new JsonObject().put("error", "not found"), sid);
      return;
    }
    String cls = parts.get(0);
    String method = parts.get(1).replace("\"", "");
    List<String> args = parts.subList(2, parts.size());
    String session = sid;
    calls.computeIfAbsent(cls + "." + method, k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
    try {
      switch (cls + "." + method) {
        case "TServerMethods1.EchoString" -> reply(ctx, 200, result(args.get(0) + " (Server " + name + ")"), sid);
        case "TServerMethods1.ReverseString" -> reply(ctx, 200, result(new StringBuilder(args.get(0)).reverse()
            .toString()), sid);
        case "TServerMethods1.Increment" -> {
          long[] total = sessions.get(sid);
          total[0] += Long.parseLong(args.get(0));
          reply(ctx, 200, result(total[0]), sid);
        }
        case "TServerMethods1.SlowEcho" -> vertx.setTimer(Math.max(1, Long.parseLong(args.get(0))),
            t -> reply(ctx, 200, result(args.get(1) + " (Server " + name + ")"), session));
        case "DSAdmin.ConsumeClientChannel" -> consume(args.get(0), args.get(1))
            .onSuccess(v -> reply(ctx, 200, result(v), session));
        case "DSAdmin.BroadcastToChannel" -> reply(ctx, 200, result(broadcast(args.get(0), args.size() > 1
            ? Json.decodeValue(args.get(1)) : Json.decodeValue(ctx.body().buffer()))), sid);
        case "DSAdmin.NotifyCallback" -> reply(ctx, 200, result(push(args.get(0), Json.decodeValue(args.get(2)))), sid);
        case "DSAdmin.CloseClientChannel" -> {
          close(args.get(0));
          reply(ctx, 200, result(true), sid);
        }
        default -> reply(ctx, 500, new JsonObject().put("error", "unknown method " + cls + "." + method), sid);
      }
    } catch (RuntimeException e) {
      reply(ctx, 400, new JsonObject().put("error", "bad parameters for " + cls + "." + method), sid);
    }
  }

  /** The next message for {@code client}, or null after a while. */
  private Future<Object> consume(String channel, String client) {
    channelOf.put(client, channel);
    ArrayDeque<Object> queue = queues.computeIfAbsent(client, c -> new ArrayDeque<>());
    if (!queue.isEmpty()) {
      return Future.succeededFuture(queue.poll());
    }
    Promise<Object> next = Promise.promise();
    waiting.computeIfAbsent(client, c -> new ArrayList<>()).add(next);
    vertx.setTimer(CONSUME_WAIT_MS, t -> {
      List<Promise<Object>> w = waiting.get(client);
      if (w != null && w.remove(next)) {
        next.tryComplete(null);
      }
    });
    return next.future();
  }

  private boolean broadcast(String channel, Object value) {
    boolean took = false;
    for (Map.Entry<String, String> e : new ArrayList<>(channelOf.entrySet())) {
      if (e.getValue().equals(channel)) {
        push(e.getKey(), value);
        took = true;
      }
    }
    return took;
  }

  private boolean push(String client, Object value) {
    if (!channelOf.containsKey(client)) {
      return false;
    }
    List<Promise<Object>> w = waiting.get(client);
    if (w != null && !w.isEmpty()) {
      w.remove(0).tryComplete(value);
    } else {
      queues.computeIfAbsent(client, c -> new ArrayDeque<>()).add(value);
    }
    return true;
  }

  private void close(String client) {
    channelOf.remove(client);
    queues.remove(client);
    List<Promise<Object>> w = waiting.remove(client);
    if (w != null) {
      w.forEach(p -> p.tryComplete(null));
    }
  }

  private static JsonObject result(Object value) {
    return new JsonObject().put("result", new JsonArray().add(value));
  }

  private static void reply(RoutingContext ctx, int status, JsonObject body, String sid) {
    HttpServerResponse resp = ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json");
    if (status == 403) {
      resp.setStatusMessage("Session Expired");
    }
    if (sid != null) {
      resp.putHeader("Pragma", "dssession=" + sid + ",dssessionexpires=" + EXPIRES_MS);
    }
    resp.end(body.toBuffer());
  }

  /** The sessions this server holds now (a test's look at what a proxy leaves behind). */
  public int sessions() {
    return sessions.size();
  }

  /** How often {@code qualified} ({@code TServerMethods1.SlowEcho}) has been called. */
  public int calls(String qualified) {
    java.util.concurrent.atomic.AtomicInteger n = calls.get(qualified);
    return n == null ? 0 : n.get();
  }
}
