// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtTest
import Tomato.Dashboard

// The first page: the filter box drives the model's filterText, the list says why it is
// empty, and the keyboard opens a service.
Item {
    id: root
    width: 1280
    height: 800

    Component {
        id: modelComponent
        FakeServiceModel { }
    }
    Component {
        id: pageComponent
        ServicesPage {
            anchors.fill: parent
            registryAddress: "127.0.0.1:2181"
        }
    }
    Component {
        id: spyComponent
        SignalSpy { signalName: "serviceActivated" }
    }

    TestCase {
        name: "ServicesPage"
        when: windowShown

        function init() {
            failOnWarning(/.*/);
        }

        function services() {
            return [
                { serviceId: "billing", instances: 3, consumers: 12, stages: ["prod"], unhealthy: 0, mixed: false },
                { serviceId: "demo-rpc-service", instances: 8, consumers: 6, stages: ["dev", "prod"], unhealthy: 2, mixed: true },
                { serviceId: "search", instances: 24, consumers: 140, stages: ["dev", "staging", "prod"], unhealthy: 0, mixed: false }
            ];
        }

        function makePage(all, loaded) {
            const model = createTemporaryObject(modelComponent, root, { all: all });
            return createTemporaryObject(pageComponent, root, {
                services: model, serviceCount: all.length, loaded: loaded
            });
        }

        function serviceRow(page, id) {
            const list = findChild(page, "serviceList");
            for (let i = 0; i < list.contentItem.children.length; ++i) {
                const row = list.contentItem.children[i];
                if (row.objectName === "serviceRow" && row.serviceId === id)
                    return row;
            }
            return null;
        }

        function test_typingInTheFilterSetsTheModelsFilterText() {
            const page = makePage(services(), true);
            const filter = findChild(page, "serviceFilter");
            const list = findChild(page, "serviceList");
            compare(filter.placeholderText, "Filter services (Ctrl+F)");
            compare(list.count, 3);
            filter.forceActiveFocus();
            keySequence("r");
            keySequence("p");
            keySequence("c");
            compare(page.services.filterText, "rpc");
            tryCompare(list, "count", 1);
            tryCompare(findChild(page, "serviceSummary"), "text", "1 of 3 micro-services");
            filter.text = "";
            compare(page.services.filterText, "");
            tryCompare(list, "count", 3);
            tryCompare(findChild(page, "serviceSummary"), "text", "3 micro-services");
        }

        function test_anEmptyListSaysWhy() {
            let page = makePage([], false);
            const empty = () => findChild(page, "serviceListEmpty");
            verify(empty().visible);
            compare(empty().text, "Reading the registry…");

            page.loaded = true;
            compare(empty().text, "No micro-service is registered in ZooKeeper at 127.0.0.1:2181 yet");

            page = makePage(services(), true);
            tryVerify(() => !empty().visible);
            findChild(page, "serviceFilter").text = "zzz";
            compare(page.services.count, 0);
            tryVerify(() => empty().visible);
            compare(empty().text, "Nothing matches 'zzz'");
        }

        function test_rowsShowCountsStagesAndWarnings() {
            const page = makePage(services(), true);
            tryVerify(() => serviceRow(page, "demo-rpc-service") !== null);
            const demo = serviceRow(page, "demo-rpc-service");
            const billing = serviceRow(page, "billing");
            compare(findChild(demo, "serviceCounts").text, "8 instances · 6 clients");
            verify(findChild(demo, "unhealthyMark").visible);
            compare(findChild(demo, "unhealthyMark").text, "⚠ 2 unhealthy");
            verify(findChild(demo, "mixedMark").visible);
            verify(!findChild(billing, "unhealthyMark").visible);
            verify(!findChild(billing, "mixedMark").visible);
            compare(demo.stageList, ["dev", "prod"]);
        }

        function test_enterOpensTheFirstMatchOrTheCurrentRow() {
            const page = makePage(services(), true);
            const spy = createTemporaryObject(spyComponent, root, { target: page });
            const filter = findChild(page, "serviceFilter");
            filter.forceActiveFocus();
            keySequence("s");
            keySequence("e");
            keySequence("a");
            keyClick(Qt.Key_Return);
            compare(spy.count, 1);
            compare(spy.signalArguments[0][0], "search");

            filter.text = "";
            waitForItemPolished(findChild(page, "serviceList"));
            keyClick(Qt.Key_Down);     // from the filter into the list
            verify(findChild(page, "serviceList").activeFocus);
            keyClick(Qt.Key_Down);
            keyClick(Qt.Key_Enter);
            compare(spy.count, 2);
            compare(spy.signalArguments[1][0], "demo-rpc-service");
        }
    }
}
