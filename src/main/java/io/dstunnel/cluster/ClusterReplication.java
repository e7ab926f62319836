// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.copy.Adoption;
import io.dstunnel.session.copy.CutOff;
import io.dstunnel.session.copy.Handout;
import io.dstunnel.session.Progress;
import io.dstunnel.session.Addresses;
import io.dstunnel.session.copy.Replication;
import io.dstunnel.session.copy.ReplicatedSession;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner's side of the cluster, for the sessions of one session verticle (used on its event
 * loop only): copies to the backup nodes, in order, before a write is answered; the directory
 * record; the ownership check after this node may have been away (a pause longer than half of
 * {@code suspectAfterMs} since it last heard a backup agree); hand-over when leaving.
 */
public final class ClusterReplication implements Replication {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterReplication.class);
  private static final int WRITE_IDS = 32;

  /** What this node knows of a session it owns. */
  private static final class Ownership {
    long epoch;
    List<String> backups;
    Future<Void> copies = Future.succeededFuture();
    long verifiedAt = System.nanoTime();
    /** When the copies were last checked for being idle (a keep-alive). */
    long checkedAt = System.nanoTime();
    /** A holder was out of reach during a copy: the next copy is a whole one. */
    boolean resync;
    /**
     * Since when (nanoTime) a copy holder has neither answered nor been found gone, or 0: every
     * request of the session waits for it until 10 × suspectAfterMs from then, not from its own start.
     */
    long silentSince;
    /** When the directory's record was last put (its time to live runs from there). */
    long recordAt = System.nanoTime();
    boolean dropSent;
    /** The last answer bytes handed out, as the copies know them. */
    Handout handout = Handout.NONE;
    /** How many of the log's left-out ranges the copies were told of. */
    int exclusionsSent;
    /** How many of the session's command handles the copies were told of. */
    int handlesSent;
    final ArrayDeque<Long> writeIds = new ArrayDeque<>();
    /**
     * Holders being given a whole copy right now ({@link #replaceBackup}), not yet acknowledged:
     * they hold nothing of this owner's yet, so nothing waits for them to say who owns it.
     */
    final java.util.Set<String> pending = new java.util.HashSet<>();
  }

  private final ClusterNode node;
  private final Map<String, Ownership> owned = new HashMap<>();

  public ClusterReplication(ClusterNode node) {
    this.node = node;
  }

  @Override
  public Future<Void> opened(ReplicatedSession session, Buffer first) {
    Ownership o = new Ownership();
    o.epoch = 1;
    o.backups = node.pickBackups(session.id());
    owned.put(session.id(), o);
    CopyOp open = CopyOp.open(session.id(), o.epoch, node.id(), session.owner(), List.of(first), List.of(),
        o.handout, exclusions(session, o, false), handles(session, o, false));
    o.copies = firstCopies(session, o, open);
    return Future.join(o.copies, node.directory().publish(record(session, o))).mapEmpty();
  }

  /**
   * A new session's first copies. A holder that does not acknowledge is replaced at once: nobody
   * knows the session yet (its id goes out with this answer), so nobody can ask it to adopt.
   */
  private Future<Void> firstCopies(ReplicatedSession session, Ownership o, CopyOp open) {
    List<Future<Void>> all = new ArrayList<>();
    for (String b : List.copyOf(o.backups)) {
      all.add(node.ask(b, open, node.config().suspectAfterMs()).transform(ar -> {
        if (ar.succeeded() && ar.result().kind() == CopyOp.Kind.ACK) {
          return Future.succeededFuture();
        }
        node.metrics().copyFailed();
        LOG.warn("node {}: the first copy of session {} on node {} failed ({}): copying it elsewhere", node.id(),
            session.id(), b, ar.succeeded() ? ar.result().kind() : ar.cause().getMessage());
        return replaceBackup(session, o, b);
      }));
    }
    return Future.all(all).mapEmpty();
  }

  @Override
  public Future<Void> wrote(ReplicatedSession session, Buffer bytes, long writeId) {
    Ownership o = owned.get(session.id());
    if (o == null) {
      return Future.failedFuture("not owned here");
    }
    if (writeId != 0) {
      o.writeIds.addLast(writeId);
      if (o.writeIds.size() > WRITE_IDS) {
        o.writeIds.removeFirst();
      }
    }
    // Where the bytes end in the stream: a whole copy made again meanwhile (replaceBackup) may already hold them.
    CopyOp op = session.replayable()
        ? CopyOp.append(session.id(), o.epoch, node.id(), bytes, writeId, session.logBytes(),
            exclusions(session, o, false), handles(session, o, false))
        : o.dropSent ? null : CopyOp.of(CopyOp.Kind.DROP, session.id(), o.epoch, node.id());
    if (op == null) {
      return Future.succeededFuture();
    }
    o.dropSent |= op.kind() == CopyOp.Kind.DROP;
    Future<Void> copied = o.copies.transform(v -> toBackups(session, o, op));
    o.copies = copied.otherwiseEmpty();
    return copied;
  }

  @Override
  public Future<Void> handedOut(ReplicatedSession session, Handout handout) {
    Ownership o = owned.get(session.id());
    if (o == null) {
      return Future.failedFuture("not owned here");
    }
    o.handout = handout;
    if (o.backups.isEmpty()) {
      return Future.succeededFuture();
    }
    CopyOp op = CopyOp.give(session.id(), o.epoch, node.id(), handout, exclusions(session, o, false),
        handles(session, o, false));
    Future<Void> copied = o.copies.transform(v -> toBackups(session, o, op));
    o.copies = copied.otherwiseEmpty();
    return copied;
  }

  @Override
  public void delivered(ReplicatedSession session, long readId) {
    Ownership o = owned.get(session.id());
    if (o == null || o.handout.sent() || o.handout.readId() != readId || o.backups.isEmpty()) {
      return;
    }
    o.handout = o.handout.written();
    CopyOp op = CopyOp.give(session.id(), o.epoch, node.id(), o.handout, List.of(), List.of());
    o.copies = o.copies.transform(v -> toBackups(session, o, op)).otherwiseEmpty();
  }

  @Override
  public Future<Boolean> relayGone(String relay) {
    return node.refuses(relay);
  }

  @Override
  public boolean applied(ReplicatedSession session, long writeId) {
    Ownership o = owned.get(session.id());
    return writeId != 0 && o != null && o.writeIds.contains(writeId);
  }

  @Override
  public Future<Boolean> stillOwner(ReplicatedSession session) {
    Ownership o = owned.get(session.id());
    if (o == null) {
      return Future.succeededFuture(false);
    }
    String holder = o.backups.stream().filter(b -> !o.pending.contains(b)).findFirst().orElse(null);
    if (holder == null || System.nanoTime() - o.verifiedAt < leaseNanos()) {
      return Future.succeededFuture(true);
    }
    // This node may have been away (a pause, a partition): the first copy holder knows if another took over.
    CopyOp check = CopyOp.of(CopyOp.Kind.CHECK, session.id(), o.epoch, node.id());
    return reach(session, o, holder, check, splitDeadline()).map(answer -> answer != Reached.MOVED);
  }

  /**
   * How long the owner serves a session on its copy holders' last acknowledgement (timed from when
   * it was asked for): half of {@code suspectAfterMs}. A holder adopts only after it has
   * acknowledged nothing for twice as long ({@code ClusterVerticle}), so the two never overlap.
   */
  private long leaseNanos() {
    return node.config().suspectAfterMs() * 500_000;
  }

  /** What a copy holder's answer means for the owner. */
  private enum Reached {
    /** It acknowledged: it holds the copy, at this node's epoch. */
    AGREED,
    /** It answered without the copy (lost it, or its copy was incomplete): it cannot adopt. */
    WITHOUT_COPY,
    /** Another node owns the session: this one is fenced out. */
    MOVED,
    /** Its process is gone (its port refuses): it cannot adopt. */
    DEAD
  }

  /**
   * Sends {@code op} to copy holder {@code holder} until it answers or is found dead. A holder that
   * neither answers nor refuses connections (a partition, a paused process, one the cluster manager
   * dropped from this node's view though it runs) may have adopted the session, or may adopt it:
   * nothing of the session is served meanwhile, and it is not replaced. Past {@code deadline}
   * the request fails with {@link CutOff}, the session kept.
   */
  private Future<Reached> reach(ReplicatedSession session, Ownership o, String holder, CopyOp op, long deadline) {
    long asked = System.nanoTime();
    return node.ask(holder, op, node.config().suspectAfterMs()).transform(ar -> {
      if (ar.succeeded()) {
        o.silentSince = 0;
        CopyOp r = ar.result();
        if (r.kind() == CopyOp.Kind.MOVED) {
          node.directory().learn(new SessionRecord(session.id(), r.owner(), r.epoch(), List.of()));
          LOG.warn("node {} no longer owns session {}: node {} took it over (epoch {})", node.id(), session.id(),
              r.owner(), r.epoch());
          return Future.succeededFuture(Reached.MOVED);
        }
        if (r.kind() == CopyOp.Kind.ACK) {
          o.verifiedAt = Math.max(o.verifiedAt, asked);
          return Future.succeededFuture(Reached.AGREED);
        }
        return Future.succeededFuture(Reached.WITHOUT_COPY);
      }
      return node.refuses(holder).compose(dead -> {
        if (dead) {
          o.silentSince = 0;
          return Future.succeededFuture(Reached.DEAD);
        }
        long now = System.nanoTime();
        if (o.silentSince == 0) {
          o.silentSince = asked;
          LOG.info("node {}: copy holder {} of session {} did not answer ({}) and is not gone: asking again until it "
              + "does", node.id(), holder, session.id(), ar.cause().getMessage());
        }
        if (now > deadline || now > o.silentSince + node.splitWaitMs() * 1_000_000L) {
          node.metrics().cutOff();
          LOG.warn("node {}: copy holder {} of session {} neither answers nor is gone: the session is not served "
              + "until it answers", node.id(), holder, session.id());
          return Future.failedFuture(new CutOff("node " + node.id() + " cannot reach node " + holder
              + ", which holds the session's copy"));
        }
        return node.vertx().timer(500).compose(v -> reach(session, o, holder, op, deadline));
      });
    });
  }

  /** How long a session waits for a copy holder that neither answers nor is gone. */
  private long splitDeadline() {
    return System.nanoTime() + node.splitWaitMs() * 1_000_000L;
  }

  @Override
  public Future<Void> adopted(ReplicatedSession session, Adoption adoption) {
    Ownership o = new Ownership();
    o.epoch = adoption.epoch();
    // Not on the node it was taken from: dead, silent (a paused process is still a member for a
    // while, and a copy to it would hold the next write up) or leaving.
    o.backups = node.pickBackups(session.id(), adoption.from());
    o.writeIds.addAll(adoption.writeIds());
    o.handout = new Handout(adoption.given(), adoption.given(), null, 0, true);
    owned.put(session.id(), o);
    CopyOp full = CopyOp.open(session.id(), o.epoch, node.id(), session.owner(), session.log(),
        adoption.writeIds(), o.handout, exclusions(session, o, true), handles(session, o, true));
    // The first answer does not wait for the new copies; the next write's copy does.
    o.copies = toBackups(session, o, full).otherwiseEmpty().mapEmpty();
    node.directory().publish(record(session, o));
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> handOver(ReplicatedSession session) {
    Ownership o = owned.get(session.id());
    if (o == null) {
      return Future.failedFuture("not owned here");
    }
    if (o.backups.isEmpty() && node.staying().stream().allMatch(node.id()::equals)) {
      // Nobody to copy to (every other member is gone or leaving): asked again each drain round,
      // quietly, until one is, or the session is left to end with this node.
      return Future.failedFuture("no member to hand over to");
    }
    if (o.backups.isEmpty()) {
      // No copy anywhere yet (every copy holder was lost): make one, then hand over to it.
      o.copies = o.copies.transform(v -> replaceBackup(session, o, null));
      return o.copies.compose(v -> o.backups.isEmpty() ? Future.failedFuture("no member to hand over to")
          : handOver(session));
    }
    String to = o.backups.get(0);
    if (!node.isMember(to) || node.isLeaving(to)) {
      // The copy holder is gone (no write since it died told this node): a new copy first.
      o.copies = o.copies.transform(v -> replaceBackup(session, o, to));
      return o.copies.compose(v -> o.backups.isEmpty() || o.backups.get(0).equals(to)
          ? Future.failedFuture("no member to hand over to") : handOver(session));
    }
    Progress now = session.progress();
    CopyOp ask = CopyOp.handOver(session.id(), o.epoch, new Handout(now, now, null, 0, true));
    return o.copies.transform(v -> node.ask(to, ask, node.config().suspectAfterMs() + 30_000))
        .map(r -> {
          if (r.kind() != CopyOp.Kind.MOVED || r.owner().equals(node.id())) {
            throw new IllegalStateException("hand-over of " + session.id() + " refused: " + r.kind());
          }
          node.directory().learn(new SessionRecord(session.id(), r.owner(), r.epoch(), List.of()));
          node.metrics().handedOver();
          LOG.info("node {} handed session {} over to node {} (the client has {} answers and {} bytes of the next)",
              node.id(), session.id(), r.owner(), now.answers(), now.partBytes());
          return null;
        });
  }

  @Override
  public void ended(ReplicatedSession session) {
    Ownership o = owned.remove(session.id());
    if (o != null) {
      o.backups.forEach(b -> dropCopy(b, session, o));
      node.directory().remove(session.id());
    }
  }

  @Override
  public void forget(ReplicatedSession session) {
    owned.remove(session.id());
  }

  /**
   * A session whose copy holder is no member any more, or that has fewer copies than
   * {@code cluster.backups} while other members could take one (they joined, or came back), gets a
   * whole copy on another member; one whose holders and record have heard nothing for a
   * keep-alive is checked with its holders (which keeps the copies, and finds a holder that lost
   * its copy) and its record put again. One step per session and call, in the session's order of
   * copies: a session busy copying is looked at next time.
   */
  @Override
  public void maintain(List<ReplicatedSession> live) {
    long now = System.nanoTime();
    List<String> members = node.staying();
    int wanted = Math.min(node.config().backups(), members.size() - (members.contains(node.id()) ? 1 : 0));
    long keepAlive = node.keepAliveMs() * 1_000_000;
    for (ReplicatedSession s : live) {
      Ownership o = owned.get(s.id());
      if (o == null || !o.copies.isComplete()) {
        continue;
      }
      String lost = o.backups.stream().filter(b -> !members.contains(b)).findFirst().orElse(null);
      if (s.replayable() && lost != null) {
        // Replaced only once known gone or leaving: one out of this node's view may still run, and adopt.
        o.copies = o.copies.transform(v -> (node.isLeaving(lost) ? Future.succeededFuture(true) : node.refuses(lost))
            .compose(gone -> gone ? replaceBackup(s, o, lost) : Future.succeededFuture()));
      } else if (s.replayable() && o.backups.size() < wanted) {
        o.copies = o.copies.transform(v -> replaceBackup(s, o, null));
      } else if (!o.backups.isEmpty() && now - o.checkedAt > keepAlive) {
        o.checkedAt = now;
        CopyOp check = CopyOp.of(CopyOp.Kind.CHECK, s.id(), o.epoch, node.id());
        o.copies = o.copies.transform(v -> toBackups(s, o, check)).otherwiseEmpty();
      }
      if (now - o.recordAt > keepAlive) {
        o.recordAt = now;
        node.directory().refresh(record(s, o));
      }
    }
  }

  /** Tells {@code holder} to drop its copy of the session (no answer awaited). */
  private void dropCopy(String holder, ReplicatedSession session, Ownership o) {
    node.vertx().eventBus().send(Addresses.copies(holder),
        CopyOp.of(CopyOp.Kind.CLOSE, session.id(), o.epoch, node.id()));
  }

  /**
   * The log's ranges left out of replays that the copies have not been told of ({@code all}: every
   * one, for a whole copy); they count as told from now.
   */
  private static List<Long> exclusions(ReplicatedSession session, Ownership o, boolean all) {
    int from = all ? 0 : o.exclusionsSent;
    o.exclusionsSent = session.exclusions();
    return session.exclusionsSince(from);
  }

  /** The command handles the copies have not been told of ({@code all}: every one); told from now. */
  private static List<String> handles(ReplicatedSession session, Ownership o, boolean all) {
    int from = all ? 0 : o.handlesSent;
    o.handlesSent = session.handles();
    return session.handlesSince(from);
  }

  private SessionRecord record(ReplicatedSession session, Ownership o) {
    return new SessionRecord(session.id(), node.id(), o.epoch, o.backups);
  }

  /**
   * Sends {@code op} to every backup (a whole copy instead, after a holder was out of reach: what
   * it holds is not known). Fails if one answers that another node owns the session (this one is
   * fenced out), or stays out of reach ({@link #reach}). A backup that is gone, or has lost the
   * copy, is replaced by another member, which is given the whole copy.
   */
  private Future<Void> toBackups(ReplicatedSession session, Ownership o, CopyOp op) {
    CopyOp sent = o.resync ? whole(session, o) : op;
    List<Future<Void>> all = new ArrayList<>();
    for (String b : List.copyOf(o.backups)) {
      all.add(reach(session, o, b, sent, splitDeadline()).transform(ar -> {
        if (ar.failed()) {
          o.resync = true;
          return Future.failedFuture(ar.cause());
        }
        return switch (ar.result()) {
          case AGREED -> Future.succeededFuture();
          case MOVED -> Future.failedFuture(new IllegalStateException("fenced: another node owns the session"));
          case WITHOUT_COPY, DEAD -> {
            node.metrics().copyFailed();
            LOG.warn("node {}: copy of session {} to node {} failed ({}): copying it elsewhere", node.id(),
                session.id(), b, ar.result());
            yield replaceBackup(session, o, b);
          }
        };
      }));
    }
    return Future.all(all).<Void>mapEmpty().onSuccess(v -> o.resync = false);
  }

  /** The whole copy of the session as it stands. */
  private CopyOp whole(ReplicatedSession session, Ownership o) {
    return CopyOp.open(session.id(), o.epoch, node.id(), session.owner(), session.log(),
        List.copyOf(o.writeIds), o.handout, exclusions(session, o, true), handles(session, o, true));
  }

  /** A copy holder failed: another member gets the whole copy instead (or the session goes without). */
  private Future<Void> replaceBackup(ReplicatedSession session, Ownership o, String failed) {
    o.backups = new ArrayList<>(o.backups);
    if (o.backups.remove(failed)) {
      // A holder that was only slow must not keep a copy that goes stale: it could be asked to adopt.
      dropCopy(failed, session, o);
    }
    List<String> candidates = new ArrayList<>(node.staying());
    candidates.remove(node.id());
    candidates.removeAll(o.backups);
    if (candidates.size() > 1) {
      candidates.remove(failed);  // another member first; the same one again if it is the only one left
    }
    if (candidates.isEmpty() || !session.replayable()) {
      LOG.warn("session {}: copy on node {} lost, no other member to copy to", session.id(), failed);
      return Future.succeededFuture();
    }
    String next = candidates.get(0);
    o.backups.add(next);
    o.pending.add(next);
    CopyOp full = whole(session, o);
    o.recordAt = System.nanoTime();
    node.directory().publish(record(session, o));
    return node.ask(next, full, node.config().suspectAfterMs()).<Void>transform(ar -> {
      o.pending.remove(next);
      if (ar.failed() || ar.result().kind() != CopyOp.Kind.ACK) {
        node.metrics().copyFailed();
        LOG.warn("node {}: the new copy of session {} on node {} failed too", node.id(), session.id(), next);
        o.backups.remove(next);
      }
      return Future.succeededFuture();
    });
  }
}
