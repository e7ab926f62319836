// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static io.dstunnel.cluster.CopyHolders.exclusions;
import static io.dstunnel.cluster.CopyHolders.handles;

import io.dstunnel.session.copy.Handout;
import io.dstunnel.session.copy.ReplicatedSession;
import io.dstunnel.session.copy.Replication;
import io.dstunnel.session.message.Adoption;
import io.dstunnel.session.message.Progress;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner's side of the cluster, for the sessions of one session verticle (used on its event
 * loop only): what each step of a session it owns (opened, written, handed out, adopted, ended)
 * copies to the backup nodes, in order, before a write is answered; the directory record; the
 * ownership check after this node may have been away (a pause longer than half of
 * {@code suspectAfterMs} since it last heard a backup agree); the copies' upkeep; hand-over when
 * leaving. Talking to the copy holders is {@link CopyHolders}'s.
 */
public final class ClusterReplication implements Replication {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterReplication.class);

  private final ClusterNode node;
  private final CopyHolders holders;
  private final Map<String, Ownership> owned = new HashMap<>();

  public ClusterReplication(ClusterNode node) {
    this.node = node;
    this.holders = new CopyHolders(node);
  }

  @Override
  public Future<Void> opened(ReplicatedSession session, Buffer first) {
    Ownership o = new Ownership();
    o.epoch = 1;
    o.backups = node.pickBackups(session.id());
    owned.put(session.id(), o);
    CopyOp open = CopyOp.open(session.id(), o.epoch, node.id(), session.owner(), List.of(first), List.of(),
        o.handout, exclusions(session, o, false), handles(session, o, false));
    o.copies = holders.firstCopies(session, o, open);
    return Future.join(o.copies, recorded(session, o)).mapEmpty();
  }

  /**
   * Writes a new session's record to the directory and tells every node; the open waits for the
   * map at most {@code suspectAfterMs}. The announcement reaches every member at once; the map is
   * for a node that missed it. Right after a member's removal the cluster manager's maps can stall
   * for its remote timeout (15 s) and then fail: the session is opened all the same, and a record
   * that was not written is written again on the next round of {@link #maintain}.
   */
  private Future<Void> recorded(ReplicatedSession session, Ownership o) {
    Future<Void> put = node.directory().publish(holders.record(session, o)).onFailure(err -> {
      LOG.warn("session {}: its record was not written to the cluster's map ({}): written again in a second",
          session.id(), err.getMessage());
      o.recordAt = 0;
    });
    return put.timeout(node.config().suspectAfterMs(), TimeUnit.MILLISECONDS).otherwiseEmpty();
  }

  @Override
  public Future<Void> wrote(ReplicatedSession session, Buffer bytes, long writeId) {
    Ownership o = owned.get(session.id());
    if (o == null) {
      return Future.failedFuture("not owned here");
    }
    o.writeIds.add(writeId);
    // Where the bytes end in the stream: a whole copy made again meanwhile (replaceBackup) may already hold them.
    CopyOp op = session.replayable()
        ? CopyOp.append(session.id(), o.epoch, node.id(), bytes, writeId, session.logBytes(), o.handout,
            exclusions(session, o, false), handles(session, o, false))
        : o.dropSent ? null : CopyOp.of(CopyOp.Kind.DROP, session.id(), o.epoch, node.id());
    if (op == null) {
      return Future.succeededFuture();
    }
    o.dropSent |= op.kind() == CopyOp.Kind.DROP;
    Future<Void> copied = o.copies.transform(v -> holders.toBackups(session, o, op));
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
    Future<Void> copied = o.copies.transform(v -> holders.toBackups(session, o, op));
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
    // Told after the step before, and the session's next step does not wait for its answer (a
    // write's copy carries the hand-out again, a read's carries its own).
    o.copies = o.copies.transform(v -> {
      holders.tellBackups(session, o, give(session, o)).onFailure(err -> askAgain(session, o));
      return Future.<Void>succeededFuture();
    });
  }

  /**
   * A told hand-out that may be lost is made good as an asked step was retried: the hand-out as it
   * stands when the session's chain reaches it (never an older one), asked of the holders.
   */
  private void askAgain(ReplicatedSession session, Ownership o) {
    if (owned.get(session.id()) == o) {
      o.copies = o.copies.transform(v -> holders.toBackups(session, o, give(session, o))).otherwiseEmpty();
    }
  }

  /** The last hand-out as the owner knows it now, alone. */
  private CopyOp give(ReplicatedSession session, Ownership o) {
    return CopyOp.give(session.id(), o.epoch, node.id(), o.handout, List.of(), List.of());
  }

  @Override
  public boolean back(String other, int sentInView) {
    return node.isMember(other) && (sentInView < 0 || sentInView >= node.joinedInView(other));
  }

  @Override
  public Future<Relay> relay(String relay, long since) {
    return node.portAfter(relay, since).map(port -> {
      node.metrics().relayChecked(port);
      return switch (port) {
        case ACCEPTS -> Relay.RUNS;
        case REFUSES -> Relay.GONE;
        case UNKNOWN -> Relay.UNKNOWN;
      };
    });
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
    return holders.stillOwner(session, o);
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
    o.copies = holders.toBackups(session, o, full).otherwiseEmpty().mapEmpty();
    node.directory().publish(holders.record(session, o));
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
      o.copies = o.copies.transform(v -> holders.replaceBackup(session, o, null));
      return o.copies.compose(v -> o.backups.isEmpty() ? Future.failedFuture("no member to hand over to")
          : handOver(session));
    }
    String to = o.backups.get(0);
    if (!node.isMember(to) || node.isLeaving(to)) {
      // The copy holder is gone (no write since it died told this node): a new copy first.
      o.copies = o.copies.transform(v -> holders.replaceBackup(session, o, to));
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
      o.backups.forEach(b -> holders.dropCopy(b, session, o));
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
    long keepAlive = node.timings().keepAliveMs() * 1_000_000;
    for (ReplicatedSession s : live) {
      Ownership o = owned.get(s.id());
      if (o == null || !o.copies.isComplete()) {
        continue;
      }
      String lost = o.backups.stream().filter(b -> !members.contains(b)).findFirst().orElse(null);
      if (s.replayable() && lost != null) {
        // Replaced only once known gone or leaving: one out of this node's view may still run, and adopt.
        o.copies = o.copies.transform(v -> (node.isLeaving(lost) ? Future.succeededFuture(true) : node.refuses(lost))
            .compose(gone -> gone ? holders.replaceBackup(s, o, lost) : Future.succeededFuture()));
      } else if (s.replayable() && o.backups.size() < wanted) {
        o.copies = o.copies.transform(v -> holders.replaceBackup(s, o, null));
      } else if (!o.backups.isEmpty() && now - o.checkedAt > keepAlive) {
        o.checkedAt = now;
        CopyOp check = CopyOp.of(CopyOp.Kind.CHECK, s.id(), o.epoch, node.id());
        o.copies = o.copies.transform(v -> holders.toBackups(s, o, check)).otherwiseEmpty();
      }
      if (o.recordAt == 0 || now - o.recordAt > keepAlive) {
        o.recordAt = now;
        node.directory().refresh(holders.record(s, o)).onFailure(err -> o.recordAt = 0);  // again next round
      }
    }
  }

}
