// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Several owner's steps for one copy keeper in one message ({@link CopyBundler}), or the keeper's
 * answers to them, in the same order. Only steps the keeper answers at once travel bundled.
 */
record CopyBundle(List<CopyOp> ops) {

  /** What a bundle may carry: the steps a copy keeper answers without waiting for anything. */
  static final Set<CopyOp.Kind> BUNDLED = EnumSet.of(CopyOp.Kind.OPEN, CopyOp.Kind.APPEND, CopyOp.Kind.DROP,
      CopyOp.Kind.CHECK, CopyOp.Kind.GIVE, CopyOp.Kind.CLOSE);

  /** On the wire: the count, then each step as {@link CopyOpCodec} writes it; by reference locally. */
  static final class Codec implements MessageCodec<CopyBundle, CopyBundle> {

    static final String NAME = "dstunnel.CopyBundle";
    private final CopyOpCodec op = new CopyOpCodec();

    @Override
    public void encodeToWire(Buffer out, CopyBundle bundle) {
      out.appendInt(bundle.ops().size());
      bundle.ops().forEach(o -> op.encodeToWire(out, o));
    }

    @Override
    public CopyBundle decodeFromWire(int pos, Buffer in) {
      int n = in.getInt(pos);
      if (n < 0 || n > (in.length() - pos) / 4) {
        throw new IllegalArgumentException("a copy bundle of " + n + " steps");
      }
      List<CopyOp> ops = new ArrayList<>(n);
      int at = pos + 4;
      for (int i = 0; i < n; i++) {
        ops.add(op.decodeFromWire(at, in));
        at += 4 + in.getInt(at);
      }
      return new CopyBundle(ops);
    }

    @Override
    public CopyBundle transform(CopyBundle bundle) {
      return bundle;
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
}
