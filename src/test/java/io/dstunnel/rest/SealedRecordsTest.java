// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** REST session records as the cluster's map keeps them: sealed, bound to their id, opened only with the key. */
class SealedRecordsTest {

  private static final String KEY = "sealed-records-test-key-0123456789-abcdefghij";
  private static final String RECORD = "{\"user\":\"alice\",\"authorization\":\"Basic YWxpY2U6cHc=\",\"backend\":\"a\"}";

  @Test
  void aSealedRecordOpensOnlyWithTheKeyForItsOwnId() {
    SealedRecords node = new SealedRecords(KEY);
    String sealed = node.seal("id-1", RECORD);
    assertThat(sealed).doesNotContain("alice").doesNotContain("YWxpY2U6cHc").doesNotContain("authorization");
    assertThat(new SealedRecords(KEY).open("id-1", sealed)).as("another node with the key").isEqualTo(RECORD);
    assertThat(node.seal("id-1", RECORD)).as("a fresh nonce each time").isNotEqualTo(sealed);
    assertThat(node.open("id-2", sealed)).as("moved to another session's id").isNull();
    assertThat(new SealedRecords(KEY + "x").open("id-1", sealed)).as("another key").isNull();
    assertThat(new SealedRecords(null).open("id-1", sealed)).as("no key").isNull();
    char[] tampered = sealed.toCharArray();
    int last = tampered.length - 5;
    tampered[last] = tampered[last] == 'A' ? 'B' : 'A';
    assertThat(node.open("id-1", new String(tampered))).as("altered").isNull();
    assertThat(node.open("id-1", "s1.!!")).as("not base64").isNull();
    assertThat(node.open("id-1", "s1.AAAA")).as("too short").isNull();
  }

  @Test
  void aKeyedNodeTakesNoRecordInClearAndATrustedNetworkKeepsThemInClear() {
    assertThat(new SealedRecords(KEY).open("id-1", RECORD)).as("a record in clear, in a keyed cluster").isNull();
    SealedRecords clear = new SealedRecords(null);
    assertThat(clear.seal("id-1", RECORD)).isEqualTo(RECORD);
    assertThat(clear.open("id-1", RECORD)).isEqualTo(RECORD);
  }
}
