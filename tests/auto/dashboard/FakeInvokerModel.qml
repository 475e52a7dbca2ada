// SPDX-License-Identifier: Apache-2.0
import QtQuick

// A stand-in for InvokerModel: a ListModel with its roles, kept sorted by stage, group and
// address as the C++ model is, and a `sections` property computed as InvokerModel computes it.
ListModel {
    id: model

    property string microServiceId: "demo-rpc-service"
    property var sections: []

    // A full row (every role, with the types InvokerModel gives them) from a few fields.
    function row(fields) {
        const r = {
            stage: "dev", group: "main", address: "127.0.0.1:4567", host: "127.0.0.1", port: 4567,
            transport: "tcp", weight: 100, overrideWeight: -1, effectiveWeight: 100, disabled: false,
            warmupPercent: 100, uptimeSeconds: 192, startedAt: 0, interfaceHash: "8c9c217fe74d",
            hashMismatch: false, state: "healthy", stateReason: "", callsPerSecond: 12.5,
            errorRate: 0.0, p99Ms: 4.2, inFlight: 1
        };
        for (const k in fields)
            r[k] = fields[k];
        r.section = r.stage + "/" + r.group;
        const colon = r.address.lastIndexOf(":");
        r.host = r.address.substring(0, colon);
        r.port = parseInt(r.address.substring(colon + 1));
        return r;
    }

    function key(r) {
        return r.stage + "\u0001" + r.group + "\u0001" + r.address;
    }

    // Inserts a row where InvokerModel would; returns its index.
    function add(fields) {
        const r = row(fields);
        let i = 0;
        while (i < count && key(get(i)) < key(r))
            ++i;
        insert(i, r);
        return i;
    }

    function indexOf(address) {
        for (let i = 0; i < count; ++i) {
            if (get(i).address === address)
                return i;
        }
        return -1;
    }

    function updateSections() {
        const out = [];
        let last = null;
        for (let i = 0; i < count; ++i) {
            const r = get(i);
            if (!last || last.section !== r.section) {
                last = { section: r.section, stage: r.stage, group: r.group, count: 0, healthy: 0,
                         firstInStage: out.length === 0 || out[out.length - 1].stage !== r.stage, stageCount: 0 };
                out.push(last);
            }
            last.count += 1;
            if (r.state === "healthy")
                last.healthy += 1;
        }
        for (const s of out)
            s.stageCount = out.filter(o => o.stage === s.stage).reduce((n, o) => n + o.count, 0);
        sections = out;
    }

    onCountChanged: updateSections()
}
