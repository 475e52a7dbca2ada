// SPDX-License-Identifier: Apache-2.0
import QtQuick

// A stand-in for ServiceFilterModel: a ListModel with its roles, filtered by `filterText`
// (any part of the id, case ignored) from `all`.
ListModel {
    id: model

    property string filterText
    // Every service: [{serviceId, instances, consumers, stages, unhealthy, mixed}]
    property var all: []

    function refill() {
        clear();
        const f = filterText.toLowerCase();
        for (const s of all) {
            if (s.serviceId.toLowerCase().indexOf(f) < 0)
                continue;
            // A ListModel cannot hold a string list as ServiceListModel does; the row reads
            // "dev,prod" as ["dev", "prod"].
            const row = Object.assign({}, s);
            row.stages = (s.stages || []).join(",");
            append(row);
        }
    }

    onFilterTextChanged: refill()
    onAllChanged: refill()
}
