// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Controls
import QtTest
import Tomato.Dashboard

// The window: the registry banner, the start page chosen by initialView, navigation between
// the pages and what reaches the Dashboard from them.
Item {
    id: root
    width: 100
    height: 100

    Component {
        id: dashboardComponent
        FakeDashboard { }
    }
    Component {
        id: mainComponent
        Main {
            width: 1280
            height: 800
        }
    }

    TestCase {
        name: "Main"
        when: windowShown

        function init() {
            failOnWarning(/.*/);
        }

        function makeDashboard() {
            const d = createTemporaryObject(dashboardComponent, root);
            d.services.all = [
                { serviceId: "billing", instances: 1, consumers: 0, stages: ["prod"], unhealthy: 0, mixed: false },
                { serviceId: "demo-rpc-service", instances: 2, consumers: 1, stages: ["dev"], unhealthy: 0, mixed: false }
            ];
            d.invokers.add({ stage: "dev", group: "main", address: "127.0.0.1:4567" });
            d.invokers.add({ stage: "dev", group: "main", address: "127.0.0.1:4568" });
            return d;
        }

        function open(dashboard, view) {
            const window = createTemporaryObject(mainComponent, root, { dashboard: dashboard, initialView: view });
            verify(window);
            tryCompare(window, "visible", true);
            waitForRendering(window.contentItem);
            return window;
        }

        // Waits until the page stack has finished moving.
        function settle(window) {
            tryCompare(findChild(window.contentItem, "pageStack"), "busy", false);
            waitForRendering(window.contentItem);
        }

        function currentPage(window) {
            return findChild(window.contentItem, "pageStack").currentItem;
        }

        function rowOf(list, name, key, value) {
            for (let i = 0; i < list.contentItem.children.length; ++i) {
                const row = list.contentItem.children[i];
                if (row.objectName === name && row[key] === value)
                    return row;
            }
            return null;
        }

        function test_theBannerSaysWhatIsWrongWithTheRegistry() {
            const d = makeDashboard();
            const window = open(d, "services");
            compare(window.objectName, "dashboardWindow");
            const banner = findChild(window.contentItem, "registryBanner");
            const text = findChild(banner, "registryBannerText");
            verify(!banner.visible);

            d.registryState = "unreachable";
            d.stale = true;
            d.retryInSeconds = 7;
            verify(banner.visible);
            tryVerify(() => banner.width > 0, 1000, "the banner is laid out");
            compare(text.text, "ZooKeeper at 127.0.0.1:2181 does not answer — retrying in 7 s — showing the tree as last seen");
            verify(findChild(currentPage(window), "staleMark").visible);
            mouseClick(findChild(banner, "retryButton"));
            compare(d.calls, [["retryNow"]]);

            d.registryState = "refused";
            d.stale = false;
            d.registryMessage = "ZooKeeper refused to read /tomato: no READ permission for the user 'ops'";
            compare(text.text, d.registryMessage);
            verify(!findChild(currentPage(window), "staleMark").visible);

            d.registryState = "connecting";
            compare(text.text, "Connecting to ZooKeeper at 127.0.0.1:2181…");

            d.registryState = "connected";
            verify(!banner.visible);
        }

        function test_clickingThroughOpensServiceThenInstanceAndBackReturns() {
            const d = makeDashboard();
            const window = open(d, "services");
            compare(currentPage(window).objectName, "servicesPage");
            const services = findChild(currentPage(window), "serviceList");
            tryVerify(() => rowOf(services, "serviceRow", "serviceId", "demo-rpc-service") !== null);
            mouseClick(rowOf(services, "serviceRow", "serviceId", "demo-rpc-service"));
            compare(d.currentService, "demo-rpc-service");
            tryCompare(currentPage(window), "objectName", "servicePage");
            compare(currentPage(window).serviceId, "demo-rpc-service");
            compare(findChild(window.contentItem.parent, "breadcrumb").text, "›  demo-rpc-service");
            settle(window);

            const invokers = findChild(currentPage(window), "invokerList");
            tryVerify(() => rowOf(invokers, "instanceRow", "address", "127.0.0.1:4568") !== null);
            mouseClick(rowOf(invokers, "instanceRow", "address", "127.0.0.1:4568"));
            compare(d.currentInstance, "127.0.0.1:4568");
            tryCompare(currentPage(window), "objectName", "instancePage");
            compare(currentPage(window).address, "127.0.0.1:4568");
            settle(window);

            mouseClick(findChild(window.contentItem.parent, "backButton"));
            compare(d.currentInstance, "");
            tryCompare(currentPage(window), "objectName", "servicePage");
            window.goBack();
            compare(d.currentService, "");
            tryCompare(currentPage(window), "objectName", "servicesPage");
            verify(!findChild(window.contentItem.parent, "backButton").enabled);
        }

        function test_initialViewOpensAService() {
            const d = makeDashboard();
            const window = open(d, "service:demo-rpc-service");
            compare(d.currentService, "demo-rpc-service");
            compare(currentPage(window).objectName, "servicePage");
            compare(currentPage(window).serviceId, "demo-rpc-service");
        }

        function test_initialViewOpensAnInstanceOverItsService() {
            const d = makeDashboard();
            d.instance.microServiceId = "";
            const window = open(d, "instance:127.0.0.1:4567");
            compare(d.currentInstance, "127.0.0.1:4567");
            compare(currentPage(window).objectName, "instancePage");
            compare(d.currentService, "", "not known yet");

            d.instance.microServiceId = "demo-rpc-service";
            d.instance.changed();
            compare(d.currentService, "demo-rpc-service");

            window.goBack();
            tryCompare(currentPage(window), "objectName", "servicePage");
            compare(currentPage(window).serviceId, "demo-rpc-service");
            compare(d.currentInstance, "");
        }

        function test_anInstanceWhoseServiceIsNeverKnownGoesBackToTheList() {
            const d = makeDashboard();
            d.instance.microServiceId = "";
            d.instance.known = false;
            const window = open(d, "instance:10.9.9.9:1");
            compare(findChild(currentPage(window), "instanceNoticeText").text, "10.9.9.9:1 is no longer in the registry");
            window.goBack();
            tryCompare(currentPage(window), "objectName", "servicesPage");
        }

        function test_aCallGoesToTheDashboardAndItsAnswerIsShown() {
            const d = makeDashboard();
            const window = open(d, "instance:127.0.0.1:4567");
            const page = currentPage(window);
            findChild(page, "instanceTabs").currentIndex = 4;
            const method = findChild(page, "callMethod");
            compare(method.currentText, "tomato.demo.EchoService::echo");
            compare(findChild(page, "callArguments").placeholderText, '["hello"]');
            method.currentIndex = 1;
            compare(findChild(page, "callArguments").placeholderText, '["hello",1]');
            findChild(page, "callArguments").text = '["tomato", 2]';
            const button = findChild(page, "callButton");
            tryCompare(button, "visible", true);
            mouseClick(button);
            compare(d.calls, [["tryCall", "127.0.0.1:4567", "tomato.demo.EchoService", "repeat", '["tomato", 2]']]);
            verify(!button.enabled, "one call at a time");

            d.callFinished(false, "BadArguments: argument 2 (times) is not an int");
            verify(button.enabled);
            compare(findChild(page, "callOutcome").text, "Error");
            compare(findChild(page, "callResult").text, "BadArguments: argument 2 (times) is not an int");
        }

        function test_aReadOnlyDashboardRefusesCallsAndSaysWhy() {
            const d = makeDashboard();
            d.callRefusal = "the dashboard was started with --read-only";
            const window = open(d, "instance:127.0.0.1:4567");
            const page = currentPage(window);
            findChild(page, "instanceTabs").currentIndex = 4;
            const button = findChild(page, "callButton");
            tryCompare(button, "visible", true);
            verify(!button.enabled);
            const label = findChild(page, "callRefusalLabel");
            verify(label.visible);
            compare(label.text, "Calls are disabled: the dashboard was started with --read-only");
            mouseClick(button);
            compare(d.calls, []);
        }

        function test_anActionsOutcomeIsShown() {
            const d = makeDashboard();
            const window = open(d, "service:demo-rpc-service");
            const toast = findChild(window.contentItem, "actionResult");
            verify(!toast.visible);
            d.actionFinished(false, "ZooKeeper refused the write: NOAUTH");
            verify(toast.visible);
            compare(findChild(toast, "actionResultText").text, "ZooKeeper refused the write: NOAUTH");
        }
    }
}
