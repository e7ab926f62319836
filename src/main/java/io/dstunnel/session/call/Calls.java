// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.call;

import io.dstunnel.backend.Backend;
import io.dstunnel.session.answer.AnswerStream;
import io.dstunnel.session.answer.CallOrder;
import io.dstunnel.session.lane.SessionServices;
import io.dstunnel.session.write.ReplayLog;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;

/**
 * A "dbx" session's calls, one level above bytes (backend-protocol.md, "Heavyweight callbacks" and
 * "Calls that replay must not run again"): which server method each command handle runs (learned
 * from each {@code prepare} and its answer, kept in {@link Handles}), the calls still owed an
 * answer in order, and the callback channel the session may have become ({@link Channel}).
 *
 * <ul>
 * <li>An execute of a {@code session.replaySkip} method is left out of the replay log once a
 * backend has it; if a failover comes before its answer, the client gets a DBX error for it
 * instead of a second run.
 * <li>After the registration ({@code DSAdmin.ConnectClientChannel}) the session is a channel:
 * the backend's {@code {"callback":…}} pushes go to the client as they come, the client's
 * {@code {"response":…}} answers to them go to the backend; neither is a request or an answer,
 * and neither is replayed. The registration's answer, when the channel closes, ends it.
 * <li>A {@code BroadcastToChannel} answered by the session's backend is also run on every other
 * backend holding a channel of that name ({@link Broadcasts}); the client gets one answer,
 * {@code [true]} if any backend took it.
 * </ul>
 * Runs on the session's event loop, as the session does.
 */
public final class Calls implements RequestCounter.MessageListener, CallOrder {

  static final String CONNECT_CHANNEL = "DSAdmin.ConnectClientChannel";

  /** One request the backend owes an answer to. */
  static final class Call {
    boolean inLog = true;
    boolean sent;
    boolean lost;
    String preparing;
    String method;
    String channel;
    Object value;
  }

  private final String session;
  private final Set<String> skip;
  private final ReplayLog log;
  private final SessionServices services;
  private final BooleanSupplier connected;
  private final Handles handles = new Handles();
  private final ArrayDeque<Call> owed = new ArrayDeque<>(1);  // grows when used: most sessions hold none or one
  private final ArrayDeque<Call> given = new ArrayDeque<>(1);  // grows when used: most sessions hold none or one
  private final List<long[]> excludeAfterReplay = new ArrayList<>();
  private Runnable synthesized;
  private Backend home;
  private final Channel channel;
  private long loggedAnswered;
  private final InOrder out = new InOrder();
  private final Broadcasts broadcasts;

  public Calls(String session, SessionServices services, ReplayLog log, BooleanSupplier connected) {
    this.session = session;
    this.services = services;
    this.skip = Set.copyOf(services.config().replaySkip());
    this.log = log;
    this.channel = new Channel(session, services.channels(), services.events());
    this.broadcasts = new Broadcasts(services);
    this.connected = connected;
  }

  /** Where answers go once in order ({@code sink}), and how a made-up answer is counted. */
  @Override
  public void deliverTo(AnswerStream.Sink sink, Runnable synthesized) {
    out.deliverTo(sink);
    this.synthesized = synthesized;
  }

  // ---- the client's messages ---------------------------------------------------------------

  @Override
  public boolean message(long start, long end, Buffer head) {
    boolean sent = connected.getAsBoolean();
    if (channel.open() && MessageHeads.startsWith(head, "{\"response\"")) {
      log.exclude(start, end);  // an answer to a push: the server that pushed it is the only one to get it
      return false;
    }
    Call call = new Call();
    call.sent = sent;
    String text = head.length() <= 512 ? head.toString() : head.getString(0, 512);
    Matcher m;
    if ((m = MessageHeads.PREPARE.matcher(text)).find()) {
      call.preparing = m.group(1);
    } else if ((m = MessageHeads.EXECUTE.matcher(text)).find()) {
      call.method = handles.method(Integer.parseInt(m.group(1)));
      if (CONNECT_CHANNEL.equals(call.method) || Broadcasts.METHOD.equals(call.method)) {
        JsonArray args = MessageHeads.args(head, end - start);
        call.channel = args == null || !(args.getValue(0) instanceof String c) ? null : c;
        call.value = args == null || args.size() < 2 ? null : args.getValue(1);
      }
      if (call.method != null && skip.contains(call.method)) {
        call.inLog = false;
        if (log.excludes(start, end)) {
          call.sent = true;  // a session taken over from a copy: the old owner's backend ran it
        } else if (sent) {
          log.exclude(start, end);
        } else {
          excludeAfterReplay.add(new long[] {start, end});  // the next backend must still run it once
        }
      }
      if (CONNECT_CHANNEL.equals(call.method) && call.channel != null) {
        channel.registered(call, sent, home);
      }
    }
    owed.add(call);
    return true;
  }

  // ---- the backend's messages --------------------------------------------------------------

  /** Whether {@code message} is a push to this channel session (not an answer to anything). */
  @Override
  public boolean isPush(Buffer message) {
    return channel.open() && MessageHeads.startsWith(message, "{\"callback\"");
  }

  /** The backend answered the oldest call owed ({@code answer} is whole, or the end of a streamed one). */
  @Override
  public void answered(Buffer answer) {
    Call call = owed.poll();
    if (call == null) {
      return;
    }
    if (call.inLog) {
      loggedAnswered++;
    }
    learn(call, answer);
    channel.answered(call, home);
    if (Broadcasts.runsElsewhere(call, home)) {
      out.nextWaitsFor(broadcasts.elsewhere(call, home));  // the answer delivered next is this call's
    }
  }

  /** A replay's answer that the client already has (dropped): a prepare's still tells its handle. */
  @Override
  public void dropped(Buffer answer) {
    Call call = given.poll();
    if (call != null) {
      learn(call, answer);
    }
  }

  /** How many of the calls now owed would still be owed once the first {@code answers} are taken as given. */
  public long owedAfter(long answers) {
    return Math.max(0, owed.size() - answers);
  }

  /**
   * A session taken over from a copy: the client already has the answers to its first
   * {@code answers} calls, which the new connection answers again (their prepares' handles are
   * learned from those answers, see {@link #dropped}).
   */
  public void assumeAnswered(long answers) {
    for (long i = 0; i < answers && !owed.isEmpty(); i++) {
      Call call = owed.poll();
      if (call.inLog) {  // a call the old owner's backend ran and a replay leaves out answers nothing again
        loggedAnswered++;
        given.add(call);
      }
    }
  }

  private void learn(Call call, Buffer answer) {
    if (call.preparing != null) {
      Matcher m = MessageHeads.RESULT_HANDLE.matcher(answer.length() <= 64 ? answer.toString() : answer.getString(0, 64));
      if (m.find()) {
        handles.learn(Integer.parseInt(m.group(1)), call.preparing);
      }
    }
  }

  /** How many handles have been learned so far (see {@link #handlesSince}). */
  public int handlesLearned() {
    return handles.count();
  }

  /** The handles learned after the first {@code from}, as "handle=method". */
  public List<String> handlesSince(int from) {
    return handles.since(from);
  }

  /**
   * A session taken over from a copy: the methods its handles run, as its old owner learned them
   * ("handle=method"), known before its log is recorded again (which calls must not run again,
   * which one is the channel).
   */
  public void knowHandles(List<String> known) {
    handles.know(known);
  }

  /** Hands {@code bytes} on to the client, in order (see {@link InOrder}). */
  @Override
  public void deliver(Buffer bytes, AnswerStream.Piece piece) {
    out.deliver(bytes, piece);
  }

  /** Whether answers wait behind a broadcast's answer, not yet handed on (the client is owed them). */
  public boolean answersWaiting() {
    return out.holding();
  }

  /** The session ended: nothing more is handed on. */
  @Override
  public void close() {
    out.close();
  }

  /** Answers calls that were lost with a backend and must not run again, if they are next in line. */
  private void answerLost() {
    while (!owed.isEmpty() && owed.peek().lost) {
      Call call = owed.poll();
      synthesized.run();
      services.events().callNotRerun(session, call.method);
      deliver(new JsonObject().put("error", new JsonObject().put("name", "EDBXError").put("code", 1)
          .put("message", call.method + " was not re-run after a failover (session.replaySkip)")).toBuffer(),
          AnswerStream.Piece.END);
    }
  }

  // ---- connections ---------------------------------------------------------------------------

  /**
   * A new connection, about to get the log: what it will answer again (to drop), and calls that
   * the lost backend had and must not run again become errors for the client.
   */
  public long restart(Backend next) {
    boolean channelMoves = channel.sent();
    home = next;
    for (Call c : owed) {
      if (c.sent && !c.inLog) {
        c.lost = true;
      }
      c.sent = true;
    }
    channel.replayedTo(next, channelMoves);
    return loggedAnswered;
  }

  /** The log went to the new connection: calls it had to run once are left out of later replays. */
  public void replayed() {
    excludeAfterReplay.forEach(r -> log.exclude(r[0], r[1]));
    excludeAfterReplay.clear();
    answerLost();
  }

  /** The session left its backend (lost, moved, ended). */
  public void detached() {
    channel.left(home);
    home = null;
  }

  /** After an answer was taken: lost calls next in line are answered at once. */
  @Override
  public void afterAnswer() {
    answerLost();
  }

  /** The only call owed is an open channel's registration, answered when the channel closes. */
  boolean onlyChannelOpen() {
    return channel.open() && owed.size() == 1;
  }

  @Override
  public boolean channelOpen() {
    return channel.open();
  }

  /** The name of the open channel, or null. */
  public String channelName() {
    return channel.name();
  }

  /** Answers already given for calls in the log: what a standby's replay answers again. */
  long loggedAnswered() {
    return loggedAnswered;
  }
}
