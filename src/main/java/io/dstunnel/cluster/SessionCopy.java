package io.dstunnel.cluster;

import io.dstunnel.framing.Framing;
import io.dstunnel.session.Adoption;
import io.dstunnel.session.RequestCounter;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A backup node's copy of one session: every byte the client wrote, and what the next request
 * tells about what the client already has (cluster.md, item 3): a write means it has every answer
 * to what it wrote before; a read, every answer but those to its last write.
 */
final class SessionCopy {

  private static final int WRITE_IDS = 32;

  private final String sessionId;
  private final String user;
  private final List<Buffer> log = new ArrayList<>();
  private final RequestCounter requests = new RequestCounter(Framing.DBX);
  private final ArrayDeque<Long> writeIds = new ArrayDeque<>();
  private long bytes;
  private long requestsBeforeLastWrite;
  private long epoch;
  private String owner;
  private boolean replayable = true;

  SessionCopy(CopyOp open) {
    this.sessionId = open.sessionId();
    this.user = open.user();
    this.epoch = open.epoch();
    this.owner = open.owner();
    open.chunks().forEach(c -> add(c, 0));
    open.writeIds().forEach(this::rememberWrite);
  }

  long epoch() {
    return epoch;
  }

  String owner() {
    return owner;
  }

  boolean replayable() {
    return replayable && requests.reliable();
  }

  /**
   * Bytes the owner took, which end at {@code end} in the session's stream (0: not said, they
   * follow). A whole copy made again while a write's own copy was still on its way already holds
   * that write: it is not taken twice (a copy holding a write twice makes its adopter answer it
   * twice). False when bytes before them are missing here: this copy cannot be completed.
   */
  boolean append(long end, Buffer chunk, long writeId) {
    long lacking = end == 0 ? chunk.length() : end - bytes;  // the chunk's last bytes this copy lacks
    if (lacking > chunk.length()) {
      return false;
    }
    if (lacking > 0) {
      add(lacking == chunk.length() ? chunk : chunk.slice((int) (chunk.length() - lacking), chunk.length()), writeId);
    }
    return true;
  }

  private void add(Buffer chunk, long writeId) {
    requestsBeforeLastWrite = requests.written();
    log.add(chunk);
    bytes += chunk.length();
    requests.record(chunk);
    rememberWrite(writeId);
  }

  void drop() {
    replayable = false;
    log.clear();
  }

  private void rememberWrite(long id) {
    if (id != 0) {
      writeIds.addLast(id);
      if (writeIds.size() > WRITE_IDS) {
        writeIds.removeFirst();
      }
    }
  }

  /** Becomes the copy of {@code newOwner}'s session at {@code newEpoch} (it is taking over). */
  void takenOver(String newOwner, long newEpoch) {
    owner = newOwner;
    epoch = newEpoch;
  }

  /**
   * What the adopter needs: the log, and the answers the client has as the request decides. A
   * write that noticed the owner's death and is already in the copy (the owner applied it, then
   * died before its answer got back) is the client's last write: the client has every answer but
   * those to it.
   */
  Adoption adoption(long answersGiven, long writeId) {
    boolean alreadyHere = writeId != 0 && !writeIds.isEmpty() && writeIds.peekLast() == writeId;
    long given = answersGiven == CopyOp.WRITE_SEEN ? (alreadyHere ? requestsBeforeLastWrite : requests.written())
        : answersGiven == CopyOp.READ_SEEN ? requestsBeforeLastWrite : answersGiven;
    return new Adoption(sessionId, user, List.copyOf(log), given, epoch, List.copyOf(writeIds));
  }
}
