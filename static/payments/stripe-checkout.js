/* Stripe's Payment Element on the pay page (only with PAYMENT_PROVIDER=stripe).
 * The page loads Stripe.js from js.stripe.com and gives this script the publishable key, the
 * PaymentIntent's client secret and the return URL as data attributes. The PaymentIntent is created
 * by the server with capture_method=manual: confirming it places a hold; the server captures later.
 * https://docs.stripe.com/payments/accept-a-payment?platform=web&ui=elements
 */
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("stripe-payment-form");
    if (!form || typeof window.Stripe !== "function") {
      return;
    }
    var stripe = window.Stripe(form.dataset.publishableKey);
    var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
    var paymentElement = elements.create("payment", { layout: "tabs" });
    paymentElement.mount("#stripe-payment-element");

    var button = document.getElementById("stripe-submit");
    var message = document.getElementById("stripe-payment-message");

    function showError(text) {
      message.textContent = text;
      message.classList.remove("d-none");
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      message.classList.add("d-none");
      stripe
        .confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } })
        .then(function (result) {
          // Only reached when the confirmation failed: success redirects to the return URL.
          if (result.error) {
            showError(result.error.message || "Your card was not accepted. Try another card.");
          }
          button.disabled = false;
        });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
