// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import io.netty.util.NetUtil;
import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.List;

/**
 * The fronts (HAProxy, an L7 balancer) a listener trusts to name the client behind them: their
 * addresses ({@code trustedProxies}, IPs or CIDRs, none by default), the header they write the
 * client into ({@code forwardedHeader}), and whether every connection starts with a PROXY
 * protocol header ({@code proxyProtocol}). Read from the {@code http} and the {@code admin}
 * section alike.
 */
public final class TrustedFronts {

  /** The header a front names the client in; the other one is the client's own word and is ignored. */
  public enum Header {
    /** {@code X-Forwarded-For: client, proxy1, ...} (HAProxy {@code option forwardfor}, nginx, most balancers). */
    X_FORWARDED_FOR("X-Forwarded-For"),
    /** RFC 7239 {@code Forwarded: for=client, for=proxy1} (HAProxy {@code option forwarded}). */
    FORWARDED("Forwarded");

    private final String spelling;

    Header(String spelling) {
      this.spelling = spelling;
    }

    public String spelling() {
      return spelling;
    }
  }

  /** Trusts nobody: the TCP peer is the client. */
  public static final TrustedFronts NONE = new TrustedFronts(List.of(), Header.X_FORWARDED_FOR, false);

  private final List<String> trustedProxies;
  private final List<byte[]> networks;
  private final List<Integer> prefixes;
  private final Header header;
  private final boolean proxyProtocol;

  private TrustedFronts(List<String> trustedProxies, Header header, boolean proxyProtocol) {
    this.trustedProxies = List.copyOf(trustedProxies);
    this.networks = new ArrayList<>();
    this.prefixes = new ArrayList<>();
    for (String cidr : this.trustedProxies) {
      int slash = cidr.indexOf('/');
      byte[] net = bytes(slash < 0 ? cidr : cidr.substring(0, slash));
      networks.add(net);
      prefixes.add(slash < 0 ? net.length * 8 : Integer.parseInt(cidr.substring(slash + 1)));
    }
    this.header = header;
    this.proxyProtocol = proxyProtocol;
  }

  static TrustedFronts fromJson(JsonSection s) {
    List<String> list = new ArrayList<>();
    JsonArray array = s.array("trustedProxies");
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        if (!(array.getValue(i) instanceof String cidr) || !validCidr(cidr.trim())) {
          throw new ConfigException(s.key("trustedProxies") + "[" + i + "]", "must be an IP address or a CIDR "
              + "such as \"10.0.0.0/8\" or \"fd00::/8\"");
        }
        list.add(cidr.trim());
      }
    }
    Header header = s.oneOf("forwardedHeader", Header.values(), Header::spelling, Header.X_FORWARDED_FOR);
    return new TrustedFronts(list, header, s.bool("proxyProtocol", false));
  }

  public List<String> trustedProxies() {
    return trustedProxies;
  }

  public Header header() {
    return header;
  }

  public boolean proxyProtocol() {
    return proxyProtocol;
  }

  /** Whether no front is trusted (then only the TCP peer counts). */
  public boolean none() {
    return networks.isEmpty();
  }

  /** Whether {@code address} (an IP literal; anything else is not) is one of the trusted fronts. */
  public boolean trusts(String address) {
    byte[] a = address == null ? null : bytes(address);
    if (a == null) {
      return false;
    }
    for (int i = 0; i < networks.size(); i++) {
      if (within(a, networks.get(i), prefixes.get(i))) {
        return true;
      }
    }
    return false;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrustedFronts f && f.trustedProxies.equals(trustedProxies) && f.header == header
        && f.proxyProtocol == proxyProtocol;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(trustedProxies, header, proxyProtocol);
  }

  @Override
  public String toString() {
    return "trustedProxies=" + trustedProxies + ", forwardedHeader=" + header.spelling() + ", proxyProtocol="
        + proxyProtocol;
  }

  /**
   * The address bytes of an IP literal (an IPv4-mapped IPv6 one as IPv4), or null for anything
   * else. Never a name lookup: this runs on the event loop.
   */
  public static byte[] bytes(String literal) {
    byte[] b = NetUtil.createByteArrayFromIpAddressString(literal);
    if (b != null && b.length == 16 && isV4Mapped(b)) {
      return java.util.Arrays.copyOfRange(b, 12, 16);
    }
    return b;
  }

  private static boolean isV4Mapped(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
  }

  private static boolean within(byte[] address, byte[] network, int prefix) {
    if (address.length != network.length) {
      return false;
    }
    int whole = prefix / 8;
    for (int i = 0; i < whole; i++) {
      if (address[i] != network[i]) {
        return false;
      }
    }
    int rest = prefix % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (address[whole] & mask) == (network[whole] & mask);
  }

  private static boolean validCidr(String cidr) {
    int slash = cidr.indexOf('/');
    byte[] net = bytes(slash < 0 ? cidr : cidr.substring(0, slash));
    if (net == null) {
      return false;
    }
    if (slash < 0) {
      return true;
    }
    String bits = cidr.substring(slash + 1);
    return bits.matches("\\d{1,3}") && Integer.parseInt(bits) <= net.length * 8;
  }
}
