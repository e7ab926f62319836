// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Requests taken on a session's own lane keep what the event bus gave them: the answer on the
 * caller's context, and a timeout when the session does not answer in time.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LaneCallsTest {

  private final Vertx vertx = Vertx.vertx();
  private final Context caller = vertx.getOrCreateContext();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  private static TunnelCommand write() {
    return TunnelCommand.write("s", "alice", io.vertx.core.buffer.Buffer.buffer("x"));
  }

  @Test
  void anAnswerReachesTheCallerOnItsOwnContext() {
    LaneCalls calls = new LaneCalls();
    Context session = vertx.getOrCreateContext();
    assertThat(session).isNotSameAs(caller);
    LaneCalls.Call call = runOn(() -> calls.add(write(), caller, 30_000));
    Future<Context> answeredOn = call.answer().map(r -> Vertx.currentContext());
    session.runOnContext(v -> call.reply(TunnelReply.accepted("s", 1)));
    assertThat(answeredOn.await()).isSameAs(caller);
  }

  @Test
  void aCallPastItsDeadlineFailsAsABusRequestWouldAndALateAnswerIsDropped() {
    LaneCalls calls = new LaneCalls();
    LaneCalls.Call late = runOn(() -> calls.add(write(), caller, 0));
    LaneCalls.Call inTime = runOn(() -> calls.add(write(), caller, 60_000));
    runOn(() -> {
      calls.expire(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1));
      late.reply(TunnelReply.failed(SessionFailure.INTERNAL, "too late"));
      inTime.reply(TunnelReply.accepted("s", 1));
      return null;
    });
    Throwable failure = late.answer().transform(ar -> Future.succeededFuture(ar.cause())).await();
    assertThat(failure).isInstanceOfSatisfying(ReplyException.class,
        e -> assertThat(e.failureType()).isEqualTo(ReplyFailure.TIMEOUT));
    assertThat(inTime.answer().await().kind()).isEqualTo(TunnelReply.Kind.ACCEPTED);
  }

  private <T> T runOn(java.util.concurrent.Callable<T> task) {
    return Future.<T>future(p -> caller.runOnContext(v -> {
      try {
        p.complete(task.call());
      } catch (Exception e) {
        p.fail(e);
      }
    })).await();
  }
}
