// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.copy.Handout;
import io.dstunnel.session.message.Progress;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** {@link CopyOp} on the wire (binary: the bytes of a log are never JSON-encoded), by reference locally. */
final class CopyOpCodec implements MessageCodec<CopyOp, CopyOp> {

  static final String NAME = "dstunnel.CopyOp";

  @Override
  public void encodeToWire(Buffer out, CopyOp op) {
    Buffer b = Buffer.buffer();
    b.appendByte((byte) op.kind().ordinal());
    string(b, op.sessionId());
    b.appendLong(op.epoch());
    string(b, op.owner());
    string(b, op.user());
    b.appendLong(op.writeId()).appendLong(op.count());
    b.appendInt(op.chunks().size());
    for (Buffer c : op.chunks()) {
      b.appendInt(c.length()).appendBuffer(c);
    }
    b.appendInt(op.writeIds().size());
    op.writeIds().forEach(b::appendLong);
    // Last, so that a node of the version before (which stops short of them) still reads the rest.
    Handout h = op.handout();
    b.appendByte((byte) (h == null ? 0 : 1));
    if (h != null) {
      progress(b, h.before());
      progress(b, h.after());
      string(b, h.origin());
      b.appendLong(h.readId());
      b.appendByte((byte) (h.sent() ? 1 : 0));
    }
    b.appendInt(op.excluded().size());
    op.excluded().forEach(b::appendLong);
    b.appendInt(op.handles().size());
    op.handles().forEach(handle -> string(b, handle));
    out.appendInt(b.length()).appendBuffer(b);
  }

  @Override
  public CopyOp decodeFromWire(int pos, Buffer in) {
    int end = pos + 4 + in.getInt(pos);
    int[] at = {pos + 4};
    CopyOp.Kind kind = CopyOp.Kind.values()[in.getByte(at[0]++)];
    String sid = string(in, at);
    long epoch = in.getLong(at[0]);
    at[0] += 8;
    String owner = string(in, at);
    String user = string(in, at);
    long writeId = in.getLong(at[0]);
    long count = in.getLong(at[0] + 8);
    at[0] += 16;
    int n = in.getInt(at[0]);
    at[0] += 4;
    List<Buffer> chunks = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int len = in.getInt(at[0]);
      chunks.add(in.getBuffer(at[0] + 4, at[0] + 4 + len));
      at[0] += 4 + len;
    }
    int m = in.getInt(at[0]);
    at[0] += 4;
    List<Long> ids = new ArrayList<>(m);
    for (int i = 0; i < m; i++) {
      ids.add(in.getLong(at[0]));
      at[0] += 8;
    }
    Handout handout = null;
    List<Long> excluded = List.of();
    List<String> handles = List.of();
    if (at[0] < end) {
      if (in.getByte(at[0]++) == 1) {
        Progress before = progress(in, at);
        Progress after = progress(in, at);
        String origin = string(in, at);
        handout = new Handout(before, after, origin, in.getLong(at[0]), in.getByte(at[0] + 8) == 1);
        at[0] += 9;
      }
      int x = in.getInt(at[0]);
      at[0] += 4;
      excluded = new ArrayList<>(x);
      for (int i = 0; i < x; i++) {
        excluded.add(in.getLong(at[0]));
        at[0] += 8;
      }
      int h = in.getInt(at[0]);
      at[0] += 4;
      handles = new ArrayList<>(h);
      for (int i = 0; i < h; i++) {
        handles.add(string(in, at));
      }
    }
    return new CopyOp(kind, sid, epoch, owner, user, writeId, count, chunks, ids, handout, excluded, handles);
  }

  private static void progress(Buffer b, Progress p) {
    b.appendLong(p.answers()).appendLong(p.partBytes()).appendLong(p.bytes());
  }

  private static Progress progress(Buffer in, int[] at) {
    Progress p = new Progress(in.getLong(at[0]), in.getLong(at[0] + 8), in.getLong(at[0] + 16));
    at[0] += 24;
    return p;
  }

  private static void string(Buffer b, String s) {
    if (s == null) {
      b.appendInt(-1);
    } else {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      b.appendInt(bytes.length).appendBytes(bytes);
    }
  }

  private static String string(Buffer in, int[] at) {
    int n = in.getInt(at[0]);
    at[0] += 4;
    if (n < 0) {
      return null;
    }
    String s = in.getString(at[0], at[0] + n, "UTF-8");
    at[0] += n;
    return s;
  }

  @Override
  public CopyOp transform(CopyOp op) {
    return op;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
