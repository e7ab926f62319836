// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.demo;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The demo server's REST side (rest.md, last section): the same server methods as the TCP side
 * under {@code /datasnap/rest/TServerMethods1/…}, DataSnap's sessions (short digit-group ids,
 * {@code Pragma: dssession=…}, {@code CloseSession}, 403 {@code SessionExpired}), every HTTP method
 * (POST, PUT, DELETE mapped to update…, accept…, cancel… unless quoted), {@code _parameters},
 * positional arguments, {@code DSAdmin.GetPlatformName} and the channel calls as DataSnap answers
 * them ({@link DemoRestChannels}); the application's own files under {@code /js/}, and under
 * {@code /app/} a page that opens a callback channel and lists its broadcasts
 * ({@code /app/channel.html}). Checks no credentials.
 */
public final class DemoRestVerticle extends VerticleBase {

  private static final Pattern DSSESSION = Pattern.compile("dssession=([^,\\s]+)");
  private static final long EXPIRES_MS = 1_200_000;

  private final String host;
  private final int port;
  /** How often each method ({@code Class.Method}) was called: what a test asks of a server. */
  private final java.util.Map<String, java.util.concurrent.atomic.AtomicInteger> calls =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final String name;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, long[]> sessions = new HashMap<>();
  private final DemoRestChannels channels = new DemoRestChannels();
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
    // A page of its own that opens a callback channel and lists what is broadcast to it.
    router.get("/app/*").handler(StaticHandler.create("demo-app"));
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
    // Positional arguments: an empty segment is an empty argument (not the one after the trailing slash).
    List<String> parts = new ArrayList<>();
    for (String p : ctx.request().path().substring("/datasnap/rest/".length()).split("/", -1)) {
      parts.add(URLDecoder.decode(p.replace("+", "%2B"), StandardCharsets.UTF_8));
    }
    if (!parts.isEmpty() && parts.get(parts.size() - 1).isEmpty()) {
      parts.remove(parts.size() - 1);
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
    String method = method(cls, parts.get(1), ctx.request().method());
    List<String> args = new ArrayList<>(parts.subList(2, parts.size()));
    Buffer body = ctx.body().buffer();
    Object bodyValue = body == null || body.length() == 0 ? null : Json.decodeValue(body);
    if (bodyValue instanceof JsonObject o && o.getValue("_parameters") instanceof JsonArray ps) {
      ps.forEach(v -> args.add(v instanceof String str ? str : Json.encode(v)));
      bodyValue = null;
    }
    String session = sid;
    calls.computeIfAbsent(cls + "." + method, k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
    try {
      switch (cls + "." + method) {
        case "TServerMethods1.EchoString" -> reply(ctx, 200, result(args.get(0) + " (Server " + name + ")"), sid);
        case "TServerMethods1.ReverseString" -> reply(ctx, 200, result(new StringBuilder(args.get(0)).reverse()
            .toString()), sid);
        case "TServerMethods1.EchoJson" -> reply(ctx, 200, result(bodyValue != null ? bodyValue
            : Json.decodeValue(args.get(0))), sid);
        case "TServerMethods1.Increment" -> {
          long[] total = sessions.get(sid);
          total[0] += Long.parseLong(args.get(0));
          reply(ctx, 200, result(total[0]), sid);
        }
        case "TServerMethods1.SlowEcho" -> vertx.setTimer(Math.max(1, Long.parseLong(args.get(0))),
            t -> reply(ctx, 200, result(args.get(1) + " (Server " + name + ")"), session));
        case "DSAdmin.GetPlatformName" -> reply(ctx, 200, result("Linux (Server " + name + ")"), sid);
        case "DSAdmin.ConsumeClientChannel" -> consume(ctx, args, bodyValue, session);
        case "DSAdmin.RegisterClientCallbackServer" -> reply(ctx, 200,
            result(channels.addCallback(args.get(0), args.get(1), arg(args, 2))), sid);
        case "DSAdmin.UnregisterClientCallback" -> reply(ctx, 200, result(channels.removeCallback(args.get(0),
            args.get(1))), sid);
        case "DSAdmin.BroadcastToChannel" -> reply(ctx, 200, result(channels.broadcast(args.get(0),
            bodyValue != null ? bodyValue : value(args.get(1)))), sid);
        case "DSAdmin.NotifyCallback" -> channels.notify(args.get(0), args.get(1),
                bodyValue != null ? bodyValue : value(args.get(2)))
            .onSuccess(answer -> reply(ctx, 200, new JsonObject().put("result", answer), session));
        case "DSAdmin.CloseClientChannel" -> reply(ctx, 200, result(channels.close(args.get(0))), sid);
        default -> reply(ctx, 500, new JsonObject().put("error", "unknown method " + cls + "." + method), sid);
      }
    } catch (RuntimeException e) {
      reply(ctx, 400, new JsonObject().put("error", "bad parameters for " + cls + "." + method), sid);
    }
  }

  /**
   * ConsumeClientChannel/Channel/ClientId/CallbackId/Channels/Token/ResponseData: with a callback id,
   * the registration (answered at once); without, a poll (answered with the next message; 500 for
   * a client this server does not know).
   */
  private void consume(RoutingContext ctx, List<String> args, Object bodyValue, String sid) {
    String callbackId = arg(args, 2);
    if (callbackId != null) {
      reply(ctx, 200, result(channels.register(args.get(0), args.get(1), callbackId, arg(args, 3))), sid);
      return;
    }
    String data = arg(args, 5);
    Object response = bodyValue != null ? bodyValue : data == null ? null : value(data);
    channels.poll(args.get(1), response).onComplete(ar -> {
      if (ar.succeeded()) {
        reply(ctx, 200, result(ar.result()), sid);
      } else {
        reply(ctx, 500, new JsonObject().put("error", ar.cause().getMessage()), sid);
      }
    });
  }

  /** DataSnap maps POST, PUT and DELETE to update…, accept…, cancel… unless the name is quoted, or the class is DSAdmin. */
  private static String method(String cls, String segment, HttpMethod http) {
    if (segment.length() > 1 && segment.startsWith("\"") && segment.endsWith("\"")) {
      return segment.substring(1, segment.length() - 1);
    }
    if (cls.equals("DSAdmin")) {
      return segment;
    }
    return switch (http.name()) {
      case "POST" -> "update" + segment;
      case "PUT" -> "accept" + segment;
      case "DELETE" -> "cancel" + segment;
      default -> segment;
    };
  }

  /** A value in the URL: JSON if it parses, else the string itself. */
  private static Object value(String text) {
    try {
      return Json.decodeValue(text);
    } catch (RuntimeException e) {
      return text;
    }
  }

  private static String arg(List<String> args, int i) {
    return i < args.size() && !args.get(i).isEmpty() ? args.get(i) : null;
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
