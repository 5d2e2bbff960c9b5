// Cell renderers for the benefits register grid. Text goes in as React children (escaped), never as HTML.
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

dagcomponentfuncs.PageLink = function (props) {
    return React.createElement("a", { href: props.data[props.colDef.cellRendererParams.hrefField] }, props.value);
};
