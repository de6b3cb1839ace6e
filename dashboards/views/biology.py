import streamlit as st

st.title('biology')
