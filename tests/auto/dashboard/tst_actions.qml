// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Controls
import QtTest
import Tomato.Dashboard

// The operator's actions on an instance: asked for with a sentence that says what the
// clients will do, carried out only once confirmed, and refused (disabled, with the reason
// shown) when the dashboard may not write.
Item {
    id: root
    width: 1280
    height: 800

    Component {
        id: invokersComponent
        FakeInvokerModel { }
    }
    Component {
        id: consumersComponent
        ListModel { }
    }
    Component {
        id: servicePageComponent
        ServicePage {
            anchors.fill: parent
            serviceId: "demo-rpc-service"
        }
    }
    Component {
        id: instancePageComponent
        InstancePage {
            anchors.fill: parent
            address: "127.0.0.1:4567"
        }
    }
    Component {
        id: detailsComponent
        FakeInstanceDetails { }
    }
    Component {
        id: spyComponent
        SignalSpy { }
    }

    TestCase {
        name: "Actions"
        when: windowShown

        function init() {
            failOnWarning(/.*/);
        }

        function invokers() {
            const model = createTemporaryObject(invokersComponent, root);
            model.add({ stage: "dev", group: "main", address: "127.0.0.1:4567" });
            model.add({ stage: "dev", group: "main", address: "127.0.0.1:4568", disabled: true, state: "disabled" });
            model.add({ stage: "prod", group: "main", address: "10.0.1.5:4567", overrideWeight: 50 });
            return model;
        }

        function servicePage(refusal) {
            return createTemporaryObject(servicePageComponent, root, {
                invokers: invokers(), consumers: createTemporaryObject(consumersComponent, root), writeRefusal: refusal
            });
        }

        function rowFor(page, address) {
            const list = findChild(page, "invokerList");
            for (let i = 0; i < list.contentItem.children.length; ++i) {
                const row = list.contentItem.children[i];
                if (row.objectName === "instanceRow" && row.address === address)
                    return row;
            }
            return null;
        }

        // The items of a row's "⋯" menu, by objectName, once opened.
        function openMenu(row) {
            const button = findChild(row, "rowActionsButton");
            mouseClick(button);
            const menu = findChild(row, "rowActionsMenu");
            tryCompare(menu, "opened", true);
            const items = {};
            for (let i = 0; i < menu.count; ++i)
                items[menu.itemAt(i).objectName] = menu.itemAt(i);
            return { menu: menu, items: items };
        }

        function args(spy, i) {
            return Array.prototype.slice.call(spy.signalArguments[i]);
        }

        function dialogOf(page) {
            return findChild(page, "actionDialog");
        }

        function test_setWeightAsksWhatClientsWillDoThenRequestsIt() {
            const page = servicePage("");
            const spy = createTemporaryObject(spyComponent, root, { target: page, signalName: "setWeightRequested" });
            tryVerify(() => rowFor(page, "127.0.0.1:4567") !== null);
            verify(!findChild(page, "writeRefusalLabel").visible);

            const m = openMenu(rowFor(page, "127.0.0.1:4567"));
            verify(m.items.setWeightAction.enabled);
            verify(m.items.toggleDisabledAction.enabled);
            compare(m.items.toggleDisabledAction.text, "Disable");
            verify(!m.items.clearOverrideAction.enabled, "nothing to clear without an override");
            m.items.setWeightAction.triggered();
            m.menu.close();

            const dialog = dialogOf(page);
            tryCompare(dialog, "opened", true);
            findChild(dialog, "weightSpinBox").value = 50;
            compare(findChild(dialog, "actionQuestion").text,
                    "Set the weight of 127.0.0.1:4567 in dev to 50? Every client of demo-rpc-service in dev applies it within a second.");
            compare(spy.count, 0, "nothing is written before the operator confirms");
            mouseClick(findChild(dialog, "actionConfirm"));
            compare(spy.count, 1);
            compare(args(spy, 0), ["dev", "127.0.0.1:4567", 50]);
        }

        function test_disableAndClearOverrideAreConfirmedForTheRowsStage() {
            const page = servicePage("");
            const disable = createTemporaryObject(spyComponent, root, { target: page, signalName: "setDisabledRequested" });
            const clear = createTemporaryObject(spyComponent, root, { target: page, signalName: "clearOverrideRequested" });
            tryVerify(() => rowFor(page, "127.0.0.1:4568") !== null);

            // A disabled instance offers to enable it.
            let m = openMenu(rowFor(page, "127.0.0.1:4568"));
            compare(m.items.toggleDisabledAction.text, "Enable");
            m.items.toggleDisabledAction.triggered();
            m.menu.close();
            const dialog = dialogOf(page);
            tryCompare(dialog, "opened", true);
            compare(findChild(dialog, "actionQuestion").text,
                    "Enable 127.0.0.1:4568 in dev again? Every client of demo-rpc-service in dev sends it calls again within a second.");
            dialog.reject();
            tryCompare(dialog, "visible", false);
            compare(disable.count, 0, "cancelled");

            m = openMenu(rowFor(page, "127.0.0.1:4568"));
            m.items.toggleDisabledAction.triggered();
            m.menu.close();
            tryCompare(dialog, "opened", true);
            mouseClick(findChild(dialog, "actionConfirm"));
            compare(disable.count, 1);
            compare(args(disable, 0), ["dev", "127.0.0.1:4568", false]);
            tryCompare(dialog, "visible", false);

            m = openMenu(rowFor(page, "10.0.1.5:4567"));
            verify(m.items.clearOverrideAction.enabled, "the row has an override");
            m.items.clearOverrideAction.triggered();
            m.menu.close();
            tryCompare(dialog, "opened", true);
            verify(findChild(dialog, "actionQuestion").text.indexOf("Clear the override of 10.0.1.5:4567 in prod?") === 0);
            mouseClick(findChild(dialog, "actionConfirm"));
            compare(clear.count, 1);
            compare(args(clear, 0), ["prod", "10.0.1.5:4567"]);
        }

        function test_actionsAreDisabledWithTheReasonWhenWritingIsRefused() {
            const reason = "the dashboard runs with --read-only";
            const page = servicePage(reason);
            tryVerify(() => rowFor(page, "10.0.1.5:4567") !== null);
            const label = findChild(page, "writeRefusalLabel");
            verify(label.visible);
            compare(label.text, "Actions are disabled: " + reason);

            const row = rowFor(page, "10.0.1.5:4567");
            compare(findChild(row, "rowActionsButton").ToolTip.text, "Actions are disabled: " + reason);
            const m = openMenu(row);
            verify(!m.items.setWeightAction.enabled);
            verify(!m.items.toggleDisabledAction.enabled);
            verify(!m.items.clearOverrideAction.enabled);
            verify(m.items.refusalItem.visible);
            compare(m.items.refusalItem.text, reason);
            m.menu.close();

            // Refused while the dialog was open: it cannot be confirmed either.
            page.writeRefusal = "";
            const dialog = dialogOf(page);
            dialog.askSetWeight("prod", "10.0.1.5:4567", 50);
            tryCompare(dialog, "opened", true);
            page.writeRefusal = reason;
            verify(!findChild(dialog, "actionConfirm").enabled);
            verify(findChild(dialog, "actionRefusal").visible);
            const spy = createTemporaryObject(spyComponent, root, { target: page, signalName: "setWeightRequested" });
            dialog.accept();
            compare(spy.count, 0);
        }

        function test_instancePageReadsItsWeightAndOverrideFromTheInvokerModel() {
            const details = createTemporaryObject(detailsComponent, root, { address: "10.0.1.5:4567", stage: "prod" });
            const model = invokers();
            const page = createTemporaryObject(instancePageComponent, root, {
                address: "10.0.1.5:4567", details: details, invokers: model, writeRefusal: ""
            });
            verify(findChild(page, "instanceProcess").text.indexOf("weight 100 → 50 (override)") >= 0,
                   findChild(page, "instanceProcess").text);
            verify(findChild(page, "clearOverrideButton").enabled, "there is an override to clear");
            compare(findChild(page, "toggleDisabledButton").text, "Disable");

            // The row changes under the page: disabled by someone else.
            const row = model.indexOf("10.0.1.5:4567");
            model.setProperty(row, "disabled", true);
            model.setProperty(row, "overrideWeight", -1);
            compare(findChild(page, "toggleDisabledButton").text, "Enable");
            verify(findChild(page, "clearOverrideButton").enabled, "disabling is an override too");

            // Set weight starts from the weight in force.
            model.setProperty(row, "disabled", false);
            model.setProperty(row, "overrideWeight", 70);
            mouseClick(findChild(page, "setWeightButton"));
            const dialog = dialogOf(page);
            tryCompare(dialog, "opened", true);
            compare(findChild(dialog, "weightSpinBox").value, 70);
            dialog.reject();

            // The instance leaves the model: the page falls back to what the details say.
            model.remove(row);
            verify(!findChild(page, "clearOverrideButton").enabled);
            verify(findChild(page, "instanceProcess").text.indexOf("override") < 0);
        }

        function test_instancePageActionsFollowTheSameRules() {
            const details = createTemporaryObject(detailsComponent, root);
            const page = createTemporaryObject(instancePageComponent, root, {
                details: details, invokers: invokers(), writeRefusal: ""
            });
            const spy = createTemporaryObject(spyComponent, root, { target: page, signalName: "setDisabledRequested" });
            const disable = findChild(page, "toggleDisabledButton");
            verify(disable.enabled);
            compare(disable.text, "Disable");
            verify(findChild(page, "setWeightButton").enabled);
            verify(!findChild(page, "clearOverrideButton").enabled);
            verify(!findChild(page, "writeRefusalLabel").visible);
            mouseClick(disable);
            const dialog = dialogOf(page);
            tryCompare(dialog, "opened", true);
            compare(findChild(dialog, "actionQuestion").text,
                    "Disable 127.0.0.1:4567 in dev? Every client of demo-rpc-service in dev stops sending it calls within a second; calls in flight finish.");
            mouseClick(findChild(dialog, "actionConfirm"));
            compare(spy.count, 1);
            compare(args(spy, 0), ["dev", "127.0.0.1:4567", true]);

            page.writeRefusal = "ZooKeeper refused to write /tomato/demo-rpc-service/dev/overrides";
            verify(!findChild(page, "setWeightButton").enabled);
            verify(!disable.enabled);
            verify(findChild(page, "writeRefusalLabel").visible);
            compare(findChild(page, "writeRefusalLabel").text,
                    "Actions are disabled: ZooKeeper refused to write /tomato/demo-rpc-service/dev/overrides");

            // An instance that left the registry can be acted on no more, and says so.
            page.writeRefusal = "";
            details.known = false;
            verify(!disable.enabled);
            compare(findChild(page, "instanceNoticeText").text, "127.0.0.1:4567 is no longer in the registry");
        }
    }
}
