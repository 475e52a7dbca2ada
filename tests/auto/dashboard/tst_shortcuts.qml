// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Controls
import QtTest
import Tomato.Dashboard

// The keyboard in the whole window: Ctrl+F and "/" find, Escape, Alt+Left and Backspace go
// back, but never while the operator is typing. Key events go to the active window: the
// dashboard's, made active for each test.
Item {
    id: root
    width: 100
    height: 100

    property Main window: null
    property FakeDashboard fake: null

    Component {
        id: dashboardComponent
        FakeDashboard {
            Component.onCompleted: {
                services.all = [
                    { serviceId: "billing", instances: 1, consumers: 0, stages: ["prod"], unhealthy: 0, mixed: false },
                    { serviceId: "demo-rpc-service", instances: 2, consumers: 1, stages: ["dev"], unhealthy: 0, mixed: false }
                ];
                invokers.add({ stage: "dev", group: "main", address: "127.0.0.1:4567" });
            }
        }
    }
    Component {
        id: mainComponent
        Main {
            width: 1280
            height: 800
        }
    }

    TestCase {
        name: "Shortcuts"
        when: windowShown

        function init() {
            failOnWarning(/.*/);
            root.fake = createTemporaryObject(dashboardComponent, root);
            root.window = createTemporaryObject(mainComponent, root, { dashboard: root.fake });
            tryCompare(root.window, "visible", true);
            root.window.requestActivate();
            tryCompare(root.window, "active", true);
        }

        function stack() {
            return findChild(root.window.contentItem, "pageStack");
        }

        function settle() {
            tryCompare(stack(), "busy", false);
        }

        function openInstance() {
            root.window.openService("demo-rpc-service");
            settle();
            root.window.openInstance("127.0.0.1:4567");
            settle();
            compare(stack().depth, 3);
        }

        function test_escapeAltLeftAndBackspaceGoBack_data() {
            return [
                { tag: "Escape", key: Qt.Key_Escape, modifiers: Qt.NoModifier },
                { tag: "Alt+Left", key: Qt.Key_Left, modifiers: Qt.AltModifier },
                { tag: "Backspace", key: Qt.Key_Backspace, modifiers: Qt.NoModifier }
            ];
        }

        function test_escapeAltLeftAndBackspaceGoBack(data) {
            openInstance();
            stack().currentItem.forceActiveFocus();
            keyClick(data.key, data.modifiers);
            settle();
            compare(stack().depth, 2);
            compare(stack().currentItem.objectName, "servicePage");
            compare(root.fake.currentInstance, "");
            keyClick(data.key, data.modifiers);
            settle();
            compare(stack().depth, 1);
            compare(root.fake.currentService, "");
        }

        function test_ctrlFAndSlashFocusTheFilterFromAnyPage() {
            openInstance();
            stack().currentItem.forceActiveFocus();
            keyClick(Qt.Key_F, Qt.ControlModifier);
            settle();
            compare(stack().depth, 1);
            const filter = findChild(stack().currentItem, "serviceFilter");
            verify(filter.activeFocus);

            root.window.openService("demo-rpc-service");
            settle();
            stack().currentItem.forceActiveFocus();
            keyClick(Qt.Key_Slash);
            settle();
            compare(stack().depth, 1);
            verify(filter.activeFocus);
        }

        function test_typingIsNotNavigation() {
            const filter = findChild(stack().currentItem, "serviceFilter");
            filter.forceActiveFocus();
            filter.text = "";
            keyClick(Qt.Key_Slash);
            keyClick(Qt.Key_D);
            compare(filter.text, "/d");
            keyClick(Qt.Key_Backspace);
            compare(filter.text, "/");

            // In the instance page's argument box, Backspace and "/" edit the text, and
            // Escape leaves the box rather than the page.
            openInstance();
            const page = stack().currentItem;
            findChild(page, "instanceTabs").currentIndex = 4;
            const args = findChild(page, "callArguments");
            args.forceActiveFocus();
            keyClick(Qt.Key_BracketLeft);
            keyClick(Qt.Key_Slash);
            keyClick(Qt.Key_Backspace);
            compare(args.text, "[");
            keyClick(Qt.Key_Escape);
            compare(stack().depth, 3, "Escape left the text box, not the page");
            verify(!args.activeFocus);
            keyClick(Qt.Key_Escape);
            settle();
            compare(stack().depth, 2);
        }

        function test_escapeClosesAnOpenDialogOnly() {
            openInstance();
            const page = stack().currentItem;
            mouseClick(findChild(page, "setWeightButton"));
            const dialog = findChild(page, "actionDialog");
            tryCompare(dialog, "opened", true);
            keyClick(Qt.Key_Escape);
            tryCompare(dialog, "visible", false);
            settle();
            compare(stack().depth, 3, "the page stays");
        }

        function test_listsAreReachedWithTheKeyboard() {
            const filter = findChild(stack().currentItem, "serviceFilter");
            filter.forceActiveFocus();
            filter.text = "";
            tryCompare(findChild(stack().currentItem, "serviceList"), "count", 2);
            keyClick(Qt.Key_Tab);
            verify(findChild(stack().currentItem, "serviceList").activeFocus);
            keyClick(Qt.Key_Down);
            keyClick(Qt.Key_Return);
            settle();
            compare(root.fake.currentService, "demo-rpc-service");
            verify(findChild(stack().currentItem, "invokerList").activeFocus, "the instance list has the keyboard");
            keyClick(Qt.Key_Return);
            settle();
            compare(root.fake.currentInstance, "127.0.0.1:4567");
        }
    }
}
