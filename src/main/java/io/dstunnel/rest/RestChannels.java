// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendPool;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.httpproxy.ProxyRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST side's callback channels: a client's channel calls stay with the backend holding its
 * channel ({@link #pinned}), what they do is recorded as they go (consumers, registrations,
 * callbacks, closes, in {@link RestChannelDirectory}), and a channel outlives its backend
 * (rest.md item 6). Embarcadero's JavaScript framework
 * registers a channel once (a ConsumeClientChannel with channel name and callback id) and then only
 * polls (POSTs naming the ClientId alone), and stops for good on a failed poll: it never registers
 * again. So dstunnel remembers each registration and RegisterClientCallbackServer call of a
 * ClientId ({@link RestChannelDirectory.Registration}), and when a poll finds the channel's backend dead or
 * not knowing the client any more, it logs the session in on a backend again, sends it the
 * registration and callbacks (their answers are dstunnel's own), and the poll goes there.
 */
final class RestChannels {

  private static final Logger LOG = LoggerFactory.getLogger(RestChannels.class);

  private final HttpClient client;
  private final RestSessions sessions;
  private final BackendPool pool;

  RestChannels(HttpClient client, RestSessions sessions, BackendPool pool) {
    this.client = client;
    this.sessions = sessions;
    this.pool = pool;
  }

  /** A registration: ConsumeClientChannel with a channel name, a ClientId and a callback id. */
  private static boolean isRegistration(RestCall call) {
    return call.is("DSAdmin", "ConsumeClientChannel") && call.arg(0) != null && call.arg(1) != null
        && call.arg(2) != null;
  }

  /** A poll: ConsumeClientChannel of a ClientId without a callback id. */
  private static boolean isPoll(RestCall call) {
    return call.is("DSAdmin", "ConsumeClientChannel") && call.arg(1) != null && call.arg(2) == null;
  }

  /** Whether the poll's channel can be re-opened elsewhere (dstunnel saw its registration). */
  boolean reopens(RestExchange ex) {
    return isPoll(ex.call) && !ex.reopened && ex.session != null && sessions.channels().registration(ex.call.arg(1)) != null;
  }

  /**
   * The backend holding the channel a call belongs to: {@code NotifyCallback} (of a channel) and
   * {@code ConsumeClientChannel} (of a ClientId) go there; null for other calls or unknown channels.
   */
  Backend pinned(RestCall call) {
    return call.is("DSAdmin", "NotifyCallback") || call.is("DSAdmin", "ConsumeClientChannel")
        ? sessions.channels().of(call.arg(call.is("DSAdmin", "NotifyCallback") ? 0 : 1)) : null;
  }

  /** The backend holding a poll's channel; null when the call is no poll or its channel unknown. */
  Backend pollHome(RestCall call) {
    return isPoll(call) ? sessions.channels().of(call.arg(1)) : null;
  }

  /**
   * The exchange's call is on its way to {@code b} (its connection is open): a consumer's poll
   * counts from now, a registration or a consume is recorded with that backend.
   */
  void sending(RestExchange ex, ProxyRequest req, Backend b) {
    // A consumer counts from the moment its long poll is on its way: a broadcast made while
    // it waits must reach its server.
    RestCall call = ex.call;
    if (call.is("DSAdmin", "ConsumeClientChannel") && call.arg(1) != null && !ex.channelCall) {
      ex.channelCall = true;
      sessions.channels().call(call.arg(1), true);
    }
    // (a registration names its channel; a poll, only its ClientId)
    if (isRegistration(call)) {
      sessions.channels().registered(call.arg(1), call.arg(0), RestPragma.withoutSession(req), names(call.arg(3)), b);
    } else if (call.is("DSAdmin", "ConsumeClientChannel") && call.arg(0) != null && call.arg(1) != null) {
      sessions.channels().consumes(call.arg(0), call.arg(1), b);
    }
  }

  /** The exchange's answer has come: its channel call is no longer under way. */
  void answering(RestExchange ex) {
    if (ex.channelCall) {
      ex.channelCall = false;
      sessions.channels().call(ex.call.arg(1), false);
    }
  }

  /** A channel call was answered {@code status}: what it added, removed or closed is recorded. */
  void answered(RestCall call, ProxyRequest req, int status) {
    if (status != 200) {
      return;
    }
    if (call.is("DSAdmin", "RegisterClientCallbackServer") && call.arg(0) != null && call.arg(1) != null) {
      sessions.channels().callbackAdded(call.arg(0), call.arg(1), RestPragma.withoutSession(req), names(call.arg(2)));
    } else if (call.is("DSAdmin", "UnregisterClientCallback") && call.arg(0) != null && call.arg(1) != null) {
      sessions.channels().callbackRemoved(call.arg(0), call.arg(1));
    }
    if (call.is("DSAdmin", "CloseClientChannel") && call.arg(0) != null) {
      sessions.channels().closed(call.arg(0));
    }
  }

  /**
   * Opens the poll's channel again: the session logs in on a backend (the same one when it lives
   * and only forgot the client: a restart; else the next in balancing order), which gets the
   * registration and the callbacks; the session is bound to it. Fails when no backend takes it.
   */
  Future<Void> reopen(RestExchange ex, Backend from, String why) {
    ex.reopened = true;
    String clientId = ex.call.arg(1);
    RestChannelDirectory.Registration reg = sessions.channels().registration(clientId);
    List<Backend> order = new ArrayList<>();
    if (from != null && from.isUp()) {
      order.add(from);
    }
    for (Backend b : from == null ? pool.forNewSession() : pool.forFailover(from)) {
      if (b.config().servesRest() && b != from && !order.contains(b)) {
        order.add(b);
      }
    }
    LOG.info("REST channel of client {}: {}; opening it again", clientId, why);
    return openOn(order, 0, reg, ex).map(b -> {
      ex.target = b;
      ex.fresh = false;
      sessions.channels().moved(clientId, b);
      return null;
    });
  }

  private Future<Backend> openOn(List<Backend> order, int i, RestChannelDirectory.Registration reg, RestExchange ex) {
    if (i >= order.size()) {
      return Future.failedFuture(new RestReplies.Refused(502, "No backend could open the channel again"));
    }
    Backend b = order.get(i);
    return call(b, reg.uri(), ex.authorization, null).compose(resp -> {
      String backendId = RestCall.sessionIn(resp.getHeader("Pragma"));
      if (resp.statusCode() != 200 || backendId == null) {
        return Future.failedFuture("registration answered " + resp.statusCode());
      }
      Future<Void> callbacks = sessions.rebind(ex.session, b, backendId);
      List<String> uris;
      synchronized (reg) {
        uris = List.copyOf(reg.callbacks().values());
      }
      for (String uri : uris) {
        callbacks = callbacks.compose(v -> call(b, uri, null, backendId).mapEmpty());
      }
      return callbacks.map(b);
    }).recover(err -> {
      LOG.info("REST channel could not be opened again on {}: {}", b.name(), err.getMessage());
      return openOn(order, i + 1, reg, ex);
    });
  }

  /** A GET of dstunnel's own to {@code b}; its answer's body is read and dropped. */
  private Future<HttpClientResponse> call(Backend b, String uri, String authorization, String backendId) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setURI(uri)
        .setServer(SocketAddress.inetSocketAddress(b.config().httpPort(), b.host()));
    if (authorization != null) {
      options.putHeader(HttpHeaders.AUTHORIZATION, authorization);
    }
    if (backendId != null) {
      options.putHeader("Pragma", "dssession=" + backendId);
    }
    return client.request(options).compose(r -> r.send()).compose(r -> r.body().map(body -> r));
  }

  private static List<String> names(String list) {
    return list == null ? List.of() : Arrays.stream(list.split(",")).map(String::trim).filter(n -> !n.isEmpty()).toList();
  }
}
