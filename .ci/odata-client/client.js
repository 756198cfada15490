#!/usr/bin/env node
// Reads the chime-reports OData feed the way a client application does,
// with the third-party library @odata/client:
//   node client.js <service root URL ending in /> <API key>
// It reads the service document and $metadata, then pages through the
// Sessions entity set by following @odata.nextLink (3 rows a page, via
// Prefer: odata.maxpagesize) and compares the rows with the set's count.
// It prints one JSON line with what it saw and exits 1 on any mismatch.
"use strict";
const { OData } = require("@odata/client");

async function main() {
  const [base, key] = process.argv.slice(2);
  if (!base || !key) throw new Error("usage: client.js <service root/> <key>");
  const auth = { Authorization: "Bearer " + key };
  const fail = (msg) => { throw new Error(msg); };

  // Service document and $metadata, as any client reads them first.
  const sdResp = await fetch(base, { headers: { ...auth, Accept: "application/json" } });
  const sd = await sdResp.json();
  const names = (sd.value || []).map((e) => e.name);
  if (!names.includes("Sessions")) fail("service document lacks Sessions: " + JSON.stringify(sd).slice(0, 200));
  const md = await (await fetch(base + "$metadata", { headers: auth })).text();
  if (!/<edmx:Edmx Version="4.0"/.test(md) || !/<EntityType Name="Sessions"><Key><PropertyRef Name="SessionId"\/><\/Key>/.test(md)) {
    fail("$metadata is not the expected CSDL");
  }

  // A paged entity set through the library.
  const client = OData.New4({ serviceEndpoint: base, commonHeaders: { ...auth, Prefer: "odata.maxpagesize=3" } });
  // (The library's own date helpers write the OData v3 form
  // datetimeoffset'…', which a v4 feed answers with 501; pass v4 text.)
  const filter = "StartedAt ge 2024-10-01T00:00:00Z";
  const counted = await client.newRequest({ collection: "Sessions", params: OData.newParam().filter(filter).count(true).top(0) });
  const count = counted["@odata.count"];
  let params = OData.newParam().filter(filter).select(["SessionId", "StartedAt", "QueueId"]);
  const ids = [];
  let pages = 0;
  for (;;) {
    const res = await client.newRequest({ collection: "Sessions", params });
    if (res.error) fail("error: " + JSON.stringify(res.error));
    pages++;
    for (const row of res.value) ids.push(row.SessionId);
    const next = res["@odata.nextLink"];
    if (!next) break;
    if (pages > 1000) fail("paging does not end");
    if (/api_key/.test(next)) fail("nextLink carries the key");
    const token = new URL(next).searchParams.get("$skiptoken");
    params = OData.newParam().filter(filter).select(["SessionId", "StartedAt", "QueueId"]).custom("$skiptoken", token);
  }
  const distinct = new Set(ids).size;
  const out = { sets: names.length, count: Number(count), rows: ids.length, distinct, pages };
  console.log(JSON.stringify(out));
  if (out.rows !== out.count || distinct !== out.rows || pages < 2) fail("paging mismatch: " + JSON.stringify(out));
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
