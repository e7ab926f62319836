package io.dstunnel.tunnel;

import io.dstunnel.auth.Authenticator;
import io.dstunnel.auth.LoginThrottle;
import io.dstunnel.config.HttpConfig;
import io.dstunnel.events.ProxyMetrics;
import io.dstunnel.session.Addresses;
import io.dstunnel.session.SessionIds;
import io.dstunnel.session.SessionVerticle;
import io.dstunnel.session.TunnelCommand;
import io.dstunnel.session.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DataSnap HTTP tunnel endpoint (tunnel-protocol.md): parses open, write, read and close
 * requests, authenticates, and hands each to its session over the event bus. Protocol errors are
 * {@link TunnelFailure}s, translated once, at the edge, into status, reason phrase and JSON body.
 */
public final class TunnelHandler implements Handler<RoutingContext> {

  private static final Logger LOG = LoggerFactory.getLogger(TunnelHandler.class);
  private static final String FORM = "application/x-www-form-urlencoded";

  private final HttpConfig config;
  private final EventBus bus;
  private final Authenticator auth;
  private final ProxyMetrics metrics;
  private final LoginThrottle throttle;
  private final ConnectionWatch watch;
  private final DeliveryOptions shortCall = new DeliveryOptions().setSendTimeout(30_000);
  private final DeliveryOptions openCall;
  private final DeliveryOptions readCall =
      new DeliveryOptions().setSendTimeout(SessionVerticle.READ_SLICE_MS + 10_000);
  private static final AtomicLong READ_IDS = new AtomicLong();

  public TunnelHandler(HttpConfig config, EventBus bus, Authenticator auth, long openTimeoutMs,
                       ProxyMetrics metrics, LoginThrottle throttle, ConnectionWatch watch) {
    this.config = config;
    this.throttle = throttle;
    this.watch = watch;
    this.metrics = metrics;
    this.bus = bus;
    this.auth = auth;
    this.openCall = new DeliveryOptions().setSendTimeout(openTimeoutMs);
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    String kind = kind(req);
    HttpServerResponse response = req.response();
    ctx.addEndHandler(v -> metrics.request(kind, response.getStatusCode()));
    Future<?> done;
    try {
      HttpMethod m = req.method();
      if (m == HttpMethod.GET) {
        done = read(req);
      } else if (m == HttpMethod.PUT || m == HttpMethod.POST) {
        done = write(req);
      } else {
        throw new TunnelFailure(405, "Accepted commands are: GET, POST and PUT");
      }
    } catch (TunnelFailure f) {
      done = Future.failedFuture(f);
    }
    done.onFailure(err -> fail(req, err));
  }

  /** The request kind for metrics: open, write, read, close or other (a cheap look, no parsing). */
  private static String kind(HttpServerRequest req) {
    HttpMethod m = req.method();
    if (m == HttpMethod.GET) {
      return "read";
    }
    if (m != HttpMethod.PUT && m != HttpMethod.POST) {
      return "other";
    }
    String q = req.query();
    if (q == null || !q.contains("c=")) {
      return "close";
    }
    return q.contains("dss=0&") || q.endsWith("dss=0") ? "open" : "write";
  }

  // ---- write, open, close ----------------------------------------------------------------

  private Future<?> write(HttpServerRequest req) {
    MultiMap params = params(req);
    String dss = single(params, "dss");
    String c = single(params, "c");
    return Bodies.collect(req, config.writeLimitBytes(), watch).compose(body -> {
      metrics.bytesIn(body.length());
      String closing = closeTarget(req, dss, c, body);
      if (closing != null) {
        return credentials(req).compose(user -> call(TunnelCommand.close(closing, user), shortCall))
            .map(reply -> {
              sendJson(req.response(), new JsonObject().put("response", new JsonArray().add(closing).add(0)));
              return null;
            });
      }
      if (dss == null || dss.isEmpty()) {
        throw TunnelFailure.badRequest("HTTP request is missing the session parameter");
      }
      if (c != null && !c.equals(Integer.toString(body.length()))) {
        throw TunnelFailure.badRequest("Count parameter " + c + " does not match the " + body.length() + " body bytes");
      }
      Future<TunnelReply> reply;
      if (dss.equals("0")) {
        reply = openCredentials(req).compose(user -> call(TunnelCommand.open(user, body), openCall));
      } else {
        String sid = knownShape(dss);
        reply = credentials(req).compose(user -> call(TunnelCommand.write(sid, user, body), shortCall));
      }
      return reply.map(r -> {
        sendJson(req.response(), new JsonObject().put("response", new JsonArray().add(r.sessionId()).add(r.count())));
        return null;
      });
    });
  }

  /**
   * The session a close request names, or null for an ordinary write. Both DataSnap forms carry
   * {@code dss=-<id>} as a form body without a count; a write never looks like that.
   */
  private static String closeTarget(HttpServerRequest req, String dss, String c, Buffer body) {
    if (req.method() != HttpMethod.POST || c != null || body.length() < 6 || body.length() > 512
        || body.getByte(0) != 'd' || !body.getString(0, 5, "ISO-8859-1").equals("dss=-")) {
      return null;
    }
    String type = req.getHeader(HttpHeaders.CONTENT_TYPE);
    if (type != null && !type.toLowerCase().startsWith(FORM)) {
      return null;
    }
    String target;
    try {
      target = URLDecoder.decode(body.getString(5, body.length(), "ISO-8859-1").trim(), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw TunnelFailure.badRequest("Malformed close request");
    }
    if (dss != null && !dss.equals(target)) {
      throw TunnelFailure.badRequest("Close names session " + target + " but the request is for " + dss);
    }
    return knownShape(target);
  }

  // ---- read ------------------------------------------------------------------------------

  private Future<?> read(HttpServerRequest req) {
    MultiMap params = params(req);
    String dss = single(params, "dss");
    String c = single(params, "c");
    if (dss == null || dss.isEmpty()) {
      throw TunnelFailure.badRequest("HTTP request is missing the session parameter");
    }
    int max = count(c);
    if (dss.equals("0")) {
      throw TunnelFailure.badRequest("A read needs an open session");
    }
    String sid = knownShape(dss);
    long started = System.nanoTime();
    long deadline = config.readTimeoutMs() > 0 ? System.nanoTime() + config.readTimeoutMs() * 1_000_000 : 0;
    return credentials(req).compose(user -> {
      Promise<Void> done = Promise.promise();
      HttpServerResponse resp = req.response();
      long readId = READ_IDS.incrementAndGet();
      boolean[] gone = {false};
      resp.closeHandler(v -> {
        gone[0] = true;
        bus.send(Addresses.session(sid), TunnelCommand.cancelRead(sid, readId));
      });
      poll(req, sid, user, max, readId, deadline, gone, done);
      return done.future().onSuccess(v -> metrics.readWait(System.nanoTime() - started));
    });
  }

  private void poll(HttpServerRequest req, String sid, String user, int max, long readId, long deadline,
                    boolean[] gone, Promise<Void> done) {
    long slice = SessionVerticle.READ_SLICE_MS;
    if (deadline != 0) {
      slice = Math.min(slice, Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
    }
    call(TunnelCommand.read(sid, user, max, readId, slice), readCall).onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
        return;
      }
      TunnelReply r = ar.result();
      if (r.status() == TunnelReply.NO_DATA_YET) {
        if (gone[0]) {
          done.complete();
        } else if (deadline != 0 && System.nanoTime() - deadline >= 0) {
          done.fail(new TunnelFailure(504, "No data within " + config.readTimeoutMs() + " ms"));
        } else {
          poll(req, sid, user, max, readId, deadline, gone, done);
        }
        return;
      }
      HttpServerResponse resp = req.response();
      if (gone[0] || resp.closed()) {
        bus.send(Addresses.session(sid), TunnelCommand.unread(sid, r.data(), r.offset()));
        done.complete();
        return;
      }
      metrics.bytesOut(r.data().length());
      resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream")
          .putHeader(HttpHeaders.CONTENT_LENGTH, Integer.toString(r.data().length()))
          .end(r.data())
          .onFailure(err -> bus.send(Addresses.session(sid), TunnelCommand.unread(sid, r.data(), r.offset())));
      done.complete();
    });
  }

  private static int count(String c) {
    if (c == null) {
      throw TunnelFailure.badRequest("HTTP request misses the count parameter");
    }
    int n;
    try {
      n = Integer.parseInt(c);
    } catch (NumberFormatException e) {
      throw TunnelFailure.badRequest("Count parameter is not a number");
    }
    if (n < 1) {
      throw TunnelFailure.badRequest("Count parameter must be at least 1");
    }
    return n;
  }

  // ---- shared ----------------------------------------------------------------------------

  /** Sends a command; an error reply becomes a failed future with its status. */
  private Future<TunnelReply> call(TunnelCommand cmd, DeliveryOptions options) {
    String address = cmd.kind() == TunnelCommand.Kind.OPEN ? Addresses.OPEN : Addresses.session(cmd.sessionId());
    return bus.<TunnelReply>request(address, cmd, options)
        .recover(err -> Future.failedFuture(translate(err)))
        .map(msg -> {
          TunnelReply r = msg.body();
          if (r.status() >= 300) {
            throw new TunnelFailure(r.status(), r.error());
          }
          return r;
        });
  }

  private static Throwable translate(Throwable err) {
    if (err instanceof ReplyException re) {
      switch (re.failureType()) {
        case NO_HANDLERS:
          return new TunnelFailure(404, "Session expired");
        case TIMEOUT:
          return new TunnelFailure(504, "Session did not answer in time");
        default:
          break;
      }
    }
    return err;
  }

  /** Credentials on {@code dss=0}: required when authentication is on. */
  private Future<String> openCredentials(HttpServerRequest req) {
    if (!auth.enabled()) {
      return Future.succeededFuture(null);
    }
    return checked(req, req.getHeader(HttpHeaders.AUTHORIZATION), 401, "Authentication failed");
  }

  /** Credentials on later requests: optional, but when given they must be valid (the owner's). */
  private Future<String> credentials(HttpServerRequest req) {
    String header = req.getHeader(HttpHeaders.AUTHORIZATION);
    if (!auth.enabled() || header == null) {
      return Future.succeededFuture(null);
    }
    return checked(req, header, 403, "Session belongs to another user");
  }

  /** Authenticates, refusing an address that failed too often lately (429 with Retry-After). */
  private Future<String> checked(HttpServerRequest req, String header, int status, String message) {
    String address = req.remoteAddress() == null ? "?" : req.remoteAddress().hostAddress();
    long wait = throttle.retryAfterMs(address);
    if (wait > 0) {
      return Future.failedFuture(new TunnelFailure(429, "Too many failed logins; retry after "
          + ((wait + 999) / 1000) + " s"));
    }
    return auth.authenticate(header).map(user -> {
      if (user == null) {
        throttle.failed(address);
        throw new TunnelFailure(status, message);
      }
      return user;
    });
  }

  private static String knownShape(String sid) {
    if (!SessionIds.wellFormed(sid)) {
      throw new TunnelFailure(404, "Session expired");
    }
    return sid;
  }

  /** The query parameters; a malformed encoding (a bad %xx) is the client's error, not ours. */
  private static MultiMap params(HttpServerRequest req) {
    try {
      return req.params();
    } catch (IllegalArgumentException e) {
      throw TunnelFailure.badRequest("Malformed query string");
    }
  }

  private static String single(MultiMap params, String name) {
    List<String> all = params.getAll(name);
    if (all.size() > 1) {
      throw TunnelFailure.badRequest("Parameter " + name + " given more than once");
    }
    return all.isEmpty() ? null : all.get(0);
  }

  private static void sendJson(HttpServerResponse resp, JsonObject body) {
    if (!resp.ended() && !resp.closed()) {
      resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.toBuffer());
    }
  }

  /** Answers a failed request: {@link TunnelFailure}s as they say, anything else as a 500. */
  static void fail(HttpServerRequest req, Throwable err) {
    int status = 500;
    String message = "Internal error";
    if (err instanceof TunnelFailure f) {
      status = f.status();
      message = f.getMessage();
    } else if (err instanceof io.vertx.core.http.HttpClosedException) {
      return; // the client went away: nobody to answer, nothing to report
    } else {
      LOG.error("tunnel request failed", err);
    }
    HttpServerResponse resp = req.response();
    if (resp.ended() || resp.closed()) {
      return;
    }
    resp.setStatusCode(status).setStatusMessage(reason(message))
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    if (status == 401) {
      resp.putHeader("WWW-Authenticate", "Basic realm=\"dstunnel\"");
    }
    if (status == 429) {
      String m = message.replaceAll("[^0-9]", "");
      resp.putHeader(HttpHeaders.RETRY_AFTER, m.isEmpty() ? "1" : m);
    }
    // A body we did not read (or refused) leaves the connection unusable for another request.
    boolean closeAfter = status == 413 || !req.isEnded() && hasBody(req);
    if (closeAfter) {
      resp.putHeader(HttpHeaders.CONNECTION, "close");
    }
    Future<Void> sent = resp.end(new JsonObject().put("error", message).toBuffer());
    if (closeAfter) {
      sent.onComplete(v -> req.connection().close());
    }
  }

  private static boolean hasBody(HttpServerRequest req) {
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    return req.getHeader(HttpHeaders.TRANSFER_ENCODING) != null || length != null && !length.trim().equals("0");
  }

  /** A reason phrase is one line of visible ASCII. */
  private static String reason(String message) {
    StringBuilder b = new StringBuilder(Math.min(message.length(), 200));
    for (int i = 0; i < message.length() && b.length() < 200; i++) {
      char ch = message.charAt(i);
      b.append(ch >= 0x20 && ch < 0x7F ? ch : ' ');
    }
    return b.toString();
  }
}
