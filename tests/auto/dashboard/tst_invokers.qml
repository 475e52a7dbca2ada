// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtTest
import Tomato.Dashboard

// The instance list of the service view: grouped by stage then group with the counts of
// InvokerModel.sections, and each row saying its state, override, TLS and interface.
Item {
    id: root
    width: 1280
    height: 2000

    Component {
        id: modelComponent
        FakeInvokerModel { }
    }
    Component {
        id: listComponent
        InvokerList {
            anchors.fill: parent
        }
    }

    TestCase {
        name: "InvokerList"
        when: windowShown

        function init() {
            failOnWarning(/.*/);
        }

        // The visible items named `names` under `item`, top to bottom.
        function visibleItems(item, names, out) {
            for (let i = 0; i < item.children.length; ++i) {
                const c = item.children[i];
                if (!c.visible)
                    continue;
                if (names.indexOf(c.objectName) >= 0)
                    out.push(c);
                visibleItems(c, names, out);
            }
            return out;
        }

        // What the list shows, as "objectName: text" lines in the order they are drawn.
        function rendered(list) {
            const items = visibleItems(list.contentItem, ["stageHeading", "groupHeading", "instanceAddress"], []);
            const y = i => i.mapToItem(list.contentItem, 0, 0).y;
            items.sort((a, b) => y(a) - y(b));
            return items.map(i => i.objectName + ": " + i.text);
        }

        function expectRendered(list, expected) {
            for (let i = 0; i < 30 && JSON.stringify(rendered(list)) !== JSON.stringify(expected); ++i)
                wait(100);
            compare(rendered(list), expected);
        }

        function makeList(rows) {
            const model = createTemporaryObject(modelComponent, root);
            for (const r of rows)
                model.add(r);
            const list = createTemporaryObject(listComponent, root, { model: model });
            verify(list);
            return list;
        }

        function rowsOf(list) {
            return visibleItems(list.contentItem, ["instanceRow"], []);
        }

        function rowFor(list, address) {
            const rows = rowsOf(list);
            for (const r of rows) {
                if (r.address === address)
                    return r;
            }
            return null;
        }

        function test_rowsAreGroupedUnderStageAndGroupHeadingsWithTheirCounts() {
            const list = makeList([
                { stage: "prod", group: "main", address: "10.0.1.6:4567", state: "overloaded" },
                { stage: "dev", group: "main", address: "127.0.0.1:4568", state: "starting" },
                { stage: "dev", group: "canary", address: "10.0.3.17:4567" },
                { stage: "prod", group: "main", address: "10.0.1.5:4567" },
                { stage: "dev", group: "main", address: "127.0.0.1:4567" }
            ]);
            expectRendered(list, [
                "stageHeading: Stage dev · 3 instances",
                "groupHeading: Group canary · 1 instance (1 healthy)",
                "instanceAddress: 10.0.3.17:4567",
                "groupHeading: Group main · 2 instances (1 healthy)",
                "instanceAddress: 127.0.0.1:4567",
                "instanceAddress: 127.0.0.1:4568",
                "stageHeading: Stage prod · 2 instances",
                "groupHeading: Group main · 2 instances (1 healthy)",
                "instanceAddress: 10.0.1.5:4567",
                "instanceAddress: 10.0.1.6:4567"
            ]);
        }

        function test_headingsFollowRowsInsertedAndRemoved() {
            const list = makeList([
                { stage: "dev", group: "canary", address: "10.0.3.17:4567" },
                { stage: "dev", group: "main", address: "127.0.0.1:4567" },
                { stage: "prod", group: "main", address: "10.0.1.5:4567", state: "not-answering" }
            ]);
            const model = list.model;
            model.add({ stage: "prod", group: "main", address: "10.0.1.7:4567" });
            expectRendered(list, [
                "stageHeading: Stage dev · 2 instances",
                "groupHeading: Group canary · 1 instance (1 healthy)",
                "instanceAddress: 10.0.3.17:4567",
                "groupHeading: Group main · 1 instance (1 healthy)",
                "instanceAddress: 127.0.0.1:4567",
                "stageHeading: Stage prod · 2 instances",
                "groupHeading: Group main · 2 instances (1 healthy)",
                "instanceAddress: 10.0.1.5:4567",
                "instanceAddress: 10.0.1.7:4567"
            ]);

            // The first group of dev leaves: the next one carries the stage's heading.
            model.remove(model.indexOf("10.0.3.17:4567"));
            // A new stage between the two.
            model.add({ stage: "ga", group: "blue", address: "10.0.9.1:4567", state: "draining" });
            expectRendered(list, [
                "stageHeading: Stage dev · 1 instance",
                "groupHeading: Group main · 1 instance (1 healthy)",
                "instanceAddress: 127.0.0.1:4567",
                "stageHeading: Stage ga · 1 instance",
                "groupHeading: Group blue · 1 instance (0 healthy)",
                "instanceAddress: 10.0.9.1:4567",
                "stageHeading: Stage prod · 2 instances",
                "groupHeading: Group main · 2 instances (1 healthy)",
                "instanceAddress: 10.0.1.5:4567",
                "instanceAddress: 10.0.1.7:4567"
            ]);

            // A state changing in place changes the healthy count of its group.
            model.setProperty(model.indexOf("10.0.1.5:4567"), "state", "healthy");
            model.updateSections();
            expectRendered(list, [
                "stageHeading: Stage dev · 1 instance",
                "groupHeading: Group main · 1 instance (1 healthy)",
                "instanceAddress: 127.0.0.1:4567",
                "stageHeading: Stage ga · 1 instance",
                "groupHeading: Group blue · 1 instance (0 healthy)",
                "instanceAddress: 10.0.9.1:4567",
                "stageHeading: Stage prod · 2 instances",
                "groupHeading: Group main · 2 instances (2 healthy)",
                "instanceAddress: 10.0.1.5:4567",
                "instanceAddress: 10.0.1.7:4567"
            ]);
        }

        function states() {
            return ["healthy", "starting", "draining", "overloaded", "disabled", "not-answering", "unknown"];
        }

        function checkStateColours(dark) {
            Theme.dark = dark;
            const list = makeList(states().map((s, i) => ({
                stage: "dev", group: "main", address: "10.0.0." + (i + 1) + ":4567", state: s,
                disabled: s === "disabled", stateReason: s === "not-answering" ? "connection refused" : ""
            })));
            tryCompare(list, "count", states().length);
            const seen = {};
            for (let i = 0; i < states().length; ++i) {
                const row = rowFor(list, "10.0.0." + (i + 1) + ":4567");
                verify(row, "row of " + states()[i]);
                const indicator = findChild(row, "stateIndicator");
                verify(Qt.colorEqual(indicator.color, Theme.stateColor(states()[i])),
                       states()[i] + ": " + indicator.color + " is not " + Theme.stateColor(states()[i]));
                seen[String(indicator.color)] = states()[i];
                compare(findChild(row, "disabledBadge").visible, states()[i] === "disabled", states()[i]);
            }
            compare(Object.keys(seen).length, states().length, "one colour per state: " + JSON.stringify(seen));
            const failing = rowFor(list, "10.0.0.6:4567");
            compare(findChild(failing, "instanceState").text, "not answering — connection refused");
        }

        function test_eachStateHasItsOwnColourInTheLightTheme() {
            checkStateColours(false);
        }

        function test_eachStateHasItsOwnColourInTheDarkTheme() {
            checkStateColours(true);
        }

        function cleanup() {
            Theme.dark = false;
        }

        function test_rowsFlagOverridesTlsWarmUpAndMixedDeployments() {
            const list = makeList([
                { address: "10.0.0.1:4567", transport: "tls", overrideWeight: 50, effectiveWeight: 50 },
                { address: "10.0.0.2:4567", warmupPercent: 40, uptimeSeconds: 192, hashMismatch: true,
                  interfaceHash: "a1b2c3d4e5f6" },
                { address: "10.0.0.3:4567" }
            ]);
            tryCompare(list, "count", 3);
            const tls = rowFor(list, "10.0.0.1:4567");
            const mixed = rowFor(list, "10.0.0.2:4567");
            const plain = rowFor(list, "10.0.0.3:4567");

            verify(findChild(tls, "tlsBadge").visible);
            verify(!findChild(plain, "tlsBadge").visible);
            verify(findChild(tls, "instanceDetails").text.indexOf("weight 100 → 50 (override)") >= 0,
                   findChild(tls, "instanceDetails").text);
            verify(findChild(plain, "instanceDetails").text.indexOf("override") < 0);

            verify(findChild(mixed, "mixedDeploymentFlag").visible);
            verify(!findChild(plain, "mixedDeploymentFlag").visible);
            const details = findChild(mixed, "instanceDetails").text;
            verify(details.indexOf("warming up 40 %") >= 0, details);
            verify(details.indexOf("up 3 m 12 s") >= 0, details);
            verify(details.indexOf("interface a1b2c3d4") >= 0, details);
            verify(findChild(plain, "instanceDetails").text.indexOf("warming up") < 0);
        }

        function test_enterOpensTheCurrentInstance() {
            const list = makeList([
                { address: "10.0.0.1:4567" },
                { address: "10.0.0.2:4567" }
            ]);
            const spy = createTemporaryQmlObject("import QtTest; SignalSpy { signalName: 'instanceActivated' }", root);
            spy.target = list;
            list.forceActiveFocus();
            list.currentIndex = 0;
            keyClick(Qt.Key_Down);
            keyClick(Qt.Key_Return);
            compare(spy.count, 1);
            compare(spy.signalArguments[0][0], "10.0.0.2:4567");
            mouseClick(rowFor(list, "10.0.0.1:4567"));
            compare(spy.count, 2);
            compare(spy.signalArguments[1][0], "10.0.0.1:4567");
        }
    }
}
