// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.message;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import java.nio.charset.StandardCharsets;

/**
 * The event-bus codecs of the session layer's messages. Locally a message passes by reference (no
 * copy, no JSON: {@link #transform} is the identity); between cluster nodes it goes in a compact
 * binary form of its own, so the same messages serve one node and many.
 */
public abstract class WireCodec<T> implements MessageCodec<T, T> {

  private final String name;

  protected WireCodec(String name) {
    this.name = name;
  }

  /**
   * Registers the codecs of {@link TunnelCommand}, {@link TunnelReply} and {@link Adoption} on
   * {@code bus}, once: another proxy on the same Vert.x may have done it, and they serve both.
   */
  public static void register(EventBus bus) {
    synchronized (WireCodec.class) {
      try {
        bus.registerDefaultCodec(TunnelCommand.class, new TunnelCommandCodec());
      } catch (IllegalStateException alreadyRegistered) {
        return;
      }
      bus.registerDefaultCodec(TunnelReply.class, new TunnelReplyCodec());
      bus.registerDefaultCodec(Adoption.class, new LocalOnly<>("dstunnel.Adoption"));
    }
  }

  /** A message that never leaves its node (a session verticle's local orders). */
  static final class LocalOnly<T> extends WireCodec<T> {
    LocalOnly(String name) {
      super(name);
    }

    @Override
    public void encodeToWire(Buffer buffer, T t) {
      throw new UnsupportedOperationException(name() + " stays on its node");
    }

    @Override
    public T decodeFromWire(int pos, Buffer buffer) {
      throw new UnsupportedOperationException(name() + " stays on its node");
    }
  }

  @Override
  public final T transform(T t) {
    return t;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final byte systemCodecID() {
    return -1;
  }

  /** Writes a nullable string: its UTF-8 length (-1 for null), then the bytes. */
  static void putString(Buffer out, String s) {
    if (s == null) {
      out.appendInt(-1);
      return;
    }
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    out.appendInt(bytes.length).appendBytes(bytes);
  }

  /** Writes a nullable buffer: its length (-1 for null), then the bytes. */
  static void putBuffer(Buffer out, Buffer b) {
    if (b == null) {
      out.appendInt(-1);
      return;
    }
    out.appendInt(b.length()).appendBuffer(b);
  }

  /** Reads what {@link #putString} and {@link #putBuffer} wrote, advancing a position. */
  static final class Reader {
    private final Buffer in;
    private int pos;

    Reader(Buffer in, int pos) {
      this.in = in;
      this.pos = pos;
    }

    byte nextByte() {
      return in.getByte(pos++);
    }

    int nextInt() {
      int v = in.getInt(pos);
      pos += 4;
      return v;
    }

    long nextLong() {
      long v = in.getLong(pos);
      pos += 8;
      return v;
    }

    String nextString() {
      int n = nextInt();
      if (n < 0) {
        return null;
      }
      String s = in.getString(pos, pos + n, "UTF-8");
      pos += n;
      return s;
    }

    Buffer nextBuffer() {
      int n = nextInt();
      if (n < 0) {
        return null;
      }
      Buffer b = in.getBuffer(pos, pos + n);
      pos += n;
      return b;
    }
  }

  /** {@link TunnelCommand} on the wire. */
  static final class TunnelCommandCodec extends WireCodec<TunnelCommand> {
    TunnelCommandCodec() {
      super("dstunnel.TunnelCommand");
    }

    @Override
    public void encodeToWire(Buffer out, TunnelCommand c) {
      Buffer body = Buffer.buffer();
      body.appendByte((byte) c.kind().ordinal());
      putString(body, c.sessionId());
      putString(body, c.user());
      putBuffer(body, c.body());
      body.appendInt(c.count()).appendLong(c.readId()).appendLong(c.offset()).appendLong(c.sliceMs());
      // Last, so that a node of the version before reads the rest as it did (a rolling upgrade).
      body.appendByte((byte) (c.acting() == null ? -1 : c.acting().ordinal()));
      out.appendInt(body.length()).appendBuffer(body);
    }

    @Override
    public TunnelCommand decodeFromWire(int pos, Buffer in) {
      int end = pos + 4 + in.getInt(pos);
      Reader r = new Reader(in, pos + 4);
      TunnelCommand.Kind kind = TunnelCommand.Kind.values()[r.nextByte()];
      String sid = r.nextString();
      String user = r.nextString();
      Buffer body = r.nextBuffer();
      int count = r.nextInt();
      long readId = r.nextLong();
      long offset = r.nextLong();
      long sliceMs = r.nextLong();
      // From a node of the version before, which said no more than the user: a user's command, or nobody's.
      byte acting = r.pos < end ? r.nextByte() : (byte) (user == null ? -1 : TunnelCommand.Acting.USER.ordinal());
      return new TunnelCommand(kind, sid, user, acting < 0 ? null : TunnelCommand.Acting.values()[acting], body,
          count, readId, offset, sliceMs);
    }
  }

  /** {@link TunnelReply} on the wire. */
  static final class TunnelReplyCodec extends WireCodec<TunnelReply> {
    TunnelReplyCodec() {
      super("dstunnel.TunnelReply");
    }

    @Override
    public void encodeToWire(Buffer out, TunnelReply t) {
      Buffer body = Buffer.buffer();
      body.appendByte((byte) t.kind().ordinal());
      body.appendByte((byte) (t.failure() == null ? -1 : t.failure().ordinal()));
      putString(body, t.message());
      putString(body, t.sessionId());
      body.appendInt(t.count());
      putBuffer(body, t.data());
      body.appendLong(t.offset());
      out.appendInt(body.length()).appendBuffer(body);
    }

    @Override
    public TunnelReply decodeFromWire(int pos, Buffer in) {
      Reader r = new Reader(in, pos + 4);
      TunnelReply.Kind kind = TunnelReply.Kind.values()[r.nextByte()];
      byte failure = r.nextByte();
      return new TunnelReply(kind, failure < 0 ? null : SessionFailure.values()[failure], r.nextString(),
          r.nextString(), r.nextInt(), r.nextBuffer(), r.nextLong());
    }
  }
}
